"""Reusable workstation widgets."""
