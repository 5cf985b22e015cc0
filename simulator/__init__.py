"""A pedestrian simulation of a station that stands in for cameras and detector (labelled as simulation).

Every person it produces is SIMULATED. ``Simulation`` moves a deterministic crowd through a
layout's floors; ``observe`` turns it into what one camera's detector would report, so that
everything downstream of the detector runs for real. See docs/SIMULATOR.md.
"""

from simulator.config import SimulationConfig
from simulator.observe import DetectorModel, Observation, observe, observe_with_truth
from simulator.plan import PlanError
from simulator.simulation import Simulation

__all__ = [
    "DetectorModel",
    "Observation",
    "PlanError",
    "Simulation",
    "SimulationConfig",
    "observe",
    "observe_with_truth",
]
