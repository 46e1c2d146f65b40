"""The analysis notebooks, shipped so that `kantelmeter report` can run them."""
