"""Settings of the pedestrian simulation (all times in seconds, speeds in metres per second)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class SimulationConfig:
    """How the simulated station behaves. The defaults are a rush hour at a busy commuter station.

    Trains arrive at absolute times ``k * train_interval_s + train_offset_s`` (k an integer), so
    every process that simulates the same clock sees the same trains; train ``k`` stops at the
    ``k mod n``-th platform edge of the layout, so with two edges the tracks alternate. Where the
    defaults come from (train capacities, door, stair, escalator and gate flows) is in
    docs/SIMULATOR.md, "Calibration".

    Attributes:
        step_s: Fixed integration step; every instance steps on the same grid of times.
        warmup_s: Time simulated before ``start_s`` so the station is not empty at the start.
        warmup_step_s: Step of the warm-up (coarser: nobody watches it, and it is paid by every
            process at start-up).
        walking_speed_mps: Mean free walking speed.
        walking_speed_sd_mps: Spread of free walking speeds between people.
        passer_by_per_s: People per second who walk through the concourse between exits.
        departing_per_s: People per second who enter from an exit to take a train.
        shop_visit_probability: Chance that a person walking through the concourse stops at a
            shop first (half of it for people on their way to a train).
        alighting_shop_probability: Chance that someone off a train stops at a shop on their way out.
        shop_dwell_s: Range of time spent at a shop front.
        train_interval_s: Time between trains (over all tracks).
        train_offset_s: Arrival time of train 0 within the interval.
        train_dwell_s: Time a train stands at the platform with its doors open.
        alighting_mean: Mean number of people leaving each train (Poisson).
        door_alight_s: Time between two people stepping off through one door.
        train_length_m: Length of a train, centred on the platform edge.
        doors_per_side: Doors along one side of a train.
        door_service_s: Time for one person to board through one door.
        gate_service_s: Time for one person to pass one ticket gate lane.
        stairs_per_s: People per second that one flight of stairs takes, per direction.
        escalator_per_s: People per second that one escalator takes.
        stairs_travel_s: Time spent on the stairs between floors.
        escalator_travel_s: Time spent on the escalator between floors.
        crowd_spacing_m: Distance between neighbours in the crowd that waits at the foot of
            stairs and escalators (a hexagonal packing: 0.55 m is 3.8 persons/m2).
    """

    step_s: float = 0.2
    warmup_s: float = 180.0
    warmup_step_s: float = 0.5
    walking_speed_mps: float = 1.3
    walking_speed_sd_mps: float = 0.2
    passer_by_per_s: float = 0.8
    departing_per_s: float = 1.2
    shop_visit_probability: float = 0.25
    alighting_shop_probability: float = 0.04
    shop_dwell_s: tuple[float, float] = (20.0, 90.0)
    train_interval_s: float = 180.0
    train_offset_s: float = 60.0
    train_dwell_s: float = 40.0
    alighting_mean: float = 500.0
    door_alight_s: float = 0.8
    train_length_m: float = 100.0
    doors_per_side: int = 20
    door_service_s: float = 0.8
    gate_service_s: float = 1.5
    stairs_per_s: float = 2.4
    escalator_per_s: float = 2.0
    stairs_travel_s: float = 16.0
    escalator_travel_s: float = 20.0
    crowd_spacing_m: float = 0.55

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(v < 0 for v in values):
                raise ValueError(f"{field.name} must not be negative, got {value}")
        positive = (
            "step_s",
            "warmup_step_s",
            "walking_speed_mps",
            "train_interval_s",
            "train_dwell_s",
            "train_length_m",
            "door_service_s",
            "door_alight_s",
            "gate_service_s",
            "stairs_per_s",
            "escalator_per_s",
            "crowd_spacing_m",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("step_s", "warmup_step_s"):
            if getattr(self, name) > 0.5:
                raise ValueError(f"{name} must be at most 0.5 s for stable walking, got {getattr(self, name)}")
        for name in ("shop_visit_probability", "alighting_shop_probability"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        low, high = self.shop_dwell_s
        if high < low:
            raise ValueError(f"shop_dwell_s must be (low, high) with low <= high, got {self.shop_dwell_s}")
        if self.doors_per_side < 1:
            raise ValueError(f"doors_per_side must be at least 1, got {self.doors_per_side}")
        alighting_s = self.alighting_mean / self.doors_per_side * self.door_alight_s
        if alighting_s + 5.0 > self.train_dwell_s:
            raise ValueError(
                f"train_dwell_s ({self.train_dwell_s}) leaves no time to board: people take about "
                f"{alighting_s:.0f} s to get off (alighting_mean / doors_per_side * door_alight_s)"
            )
        if self.train_dwell_s >= self.train_interval_s:
            raise ValueError(
                f"train_dwell_s ({self.train_dwell_s}) must be shorter than train_interval_s ({self.train_interval_s})"
            )


# The demo's demand before its rush was made realistic: a train of 160 every 180 s, slower gates,
# stairs and escalator. Benchmarks measure the realistic rush against it in the same run.
OFF_PEAK_CHANGES: dict[str, float] = {
    "passer_by_per_s": 0.6,
    "departing_per_s": 0.8,
    "train_dwell_s": 30.0,
    "alighting_mean": 160.0,
    "alighting_shop_probability": 0.125,
    "door_alight_s": 0.75,
    "doors_per_side": 10,
    "gate_service_s": 2.4,
    "stairs_per_s": 2.0,
    "escalator_per_s": 1.2,
}


def off_peak(config: SimulationConfig | None = None) -> SimulationConfig:
    """``config`` (default: the defaults) with the off-peak demand of ``OFF_PEAK_CHANGES``."""
    return replace(config or SimulationConfig(), **OFF_PEAK_CHANGES)
