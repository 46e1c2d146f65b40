"""The instruments shipped with kantelmeter, one YAML file each (see README.md here)."""
