"""Default settings and example configs; ``DEMO_DIR`` holds the demo municipality's catalogue."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent
DEMO_DIR = CONFIG_DIR / "demo"
