"""reproflow: reproduce, correct and extend three published ML studies."""

__version__ = "0.1.0"
