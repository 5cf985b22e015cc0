"""Settings of the pedestrian simulation (all times in seconds, speeds in metres per second)."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class SimulationConfig:
    """How the simulated station behaves.

    Trains arrive at absolute times ``k * train_interval_s + train_offset_s`` (k an integer), so
    every process that simulates the same clock sees the same trains; train ``k`` stops at the
    ``k mod n``-th platform edge of the layout, so with two edges the tracks alternate.

    Attributes:
        step_s: Fixed integration step; every instance steps on the same grid of times.
        warmup_s: Time simulated before ``start_s`` so the station is not empty at the start.
        warmup_step_s: Step of the warm-up (coarser: nobody watches it, and it is paid by every
            process at start-up).
        walking_speed_mps: Mean free walking speed.
        walking_speed_sd_mps: Spread of free walking speeds between people.
        passer_by_per_s: People per second who walk through the concourse between exits.
        departing_per_s: People per second who enter from an exit to take a train.
        shop_visit_probability: Chance that a person on the concourse stops at a shop first.
        shop_dwell_s: Range of time spent at a shop front.
        train_interval_s: Time between trains (over all tracks).
        train_offset_s: Arrival time of train 0 within the interval.
        train_dwell_s: Time a train stands at the platform with its doors open.
        alighting_mean: Mean number of people leaving each train (Poisson).
        alight_spread_s: People step off over this long after the doors open.
        train_length_m: Length of a train, centred on the platform edge.
        doors_per_side: Doors along one side of a train.
        door_service_s: Time for one person to board through one door.
        gate_service_s: Time for one person to pass one ticket gate lane.
        stairs_per_s: People per second that one flight of stairs takes, per direction.
        escalator_per_s: People per second that one escalator takes.
        stairs_travel_s: Time spent on the stairs between floors.
        escalator_travel_s: Time spent on the escalator between floors.
    """

    step_s: float = 0.2
    warmup_s: float = 180.0
    warmup_step_s: float = 0.5
    walking_speed_mps: float = 1.3
    walking_speed_sd_mps: float = 0.2
    passer_by_per_s: float = 0.6
    departing_per_s: float = 0.8
    shop_visit_probability: float = 0.25
    shop_dwell_s: tuple[float, float] = (20.0, 90.0)
    train_interval_s: float = 180.0
    train_offset_s: float = 60.0
    train_dwell_s: float = 30.0
    alighting_mean: float = 160.0
    alight_spread_s: float = 12.0
    train_length_m: float = 100.0
    doors_per_side: int = 10
    door_service_s: float = 0.8
    gate_service_s: float = 2.4
    stairs_per_s: float = 2.0
    escalator_per_s: float = 1.2
    stairs_travel_s: float = 16.0
    escalator_travel_s: float = 20.0

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
            "gate_service_s",
            "stairs_per_s",
            "escalator_per_s",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("step_s", "warmup_step_s"):
            if getattr(self, name) > 0.5:
                raise ValueError(f"{name} must be at most 0.5 s for stable walking, got {getattr(self, name)}")
        if not 0.0 <= self.shop_visit_probability <= 1.0:
            raise ValueError(f"shop_visit_probability must lie in [0, 1], got {self.shop_visit_probability}")
        low, high = self.shop_dwell_s
        if high < low:
            raise ValueError(f"shop_dwell_s must be (low, high) with low <= high, got {self.shop_dwell_s}")
        if self.doors_per_side < 1:
            raise ValueError(f"doors_per_side must be at least 1, got {self.doors_per_side}")
        if self.train_dwell_s >= self.train_interval_s:
            raise ValueError(
                f"train_dwell_s ({self.train_dwell_s}) must be shorter than train_interval_s ({self.train_interval_s})"
            )
