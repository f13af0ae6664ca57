"""One module per architecture; each registers its sequential, functional and subclassing builders."""
