"""A pedestrian simulation of a station that stands in for cameras and detector (labelled as simulation)."""
