"""Map image foot points onto a station floor plan in metres. Pure geometry: no I/O, no clocks."""
