from pathlib import Path

import pytest

from simulator import Simulation, SimulationConfig
from station import StationLayout, load_layout

DEMO = Path(__file__).resolve().parents[2] / "station_layouts" / "demo-station"


@pytest.fixture(scope="session")
def demo_layout() -> StationLayout:
    return load_layout(DEMO)


@pytest.fixture(scope="session")
def running_sim(demo_layout: StationLayout) -> Simulation:
    """The default demo crowd at t = 1000 s (read-only for tests: each test advances its own copy)."""
    return Simulation(demo_layout, seed=7, start_s=1000.0, config=SimulationConfig())
