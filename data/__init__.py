"""Data files shipped with kantelmeter (municipal figures, the source study's tallies)."""
