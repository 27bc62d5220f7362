"""choreo: a K-pop choreography generator built on our own Motion Diffusion Model."""

__version__ = "0.1.0"
