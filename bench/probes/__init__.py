"""What each API's model can do (capabilities, data parallelism) and what its first step costs, each
probed from outputs, most in a fresh process."""
