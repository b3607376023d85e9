"""smscope: a self-hosted SMS campaign platform whose heart is delivery tracking."""

__version__ = "0.1.0"
