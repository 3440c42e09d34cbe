"""Models that predict before the fact: job power profiles (``forecasters.power``) and facility load."""
