"""What shows the regression check works: A/A and planted-slowdown campaigns, the gate's calibration,
the rule's simulation, real framework releases through the check.  Never imported by the check itself."""
