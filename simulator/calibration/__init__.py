"""Calibration to the source paper: targets, figures, check, fit, predictive check, report."""
