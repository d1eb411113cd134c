"""Every write of ``teams``, one module per area (as Zulip keeps ``zerver/actions/``):
``keys``, ``organization``, ``people``, ``presence``, ``skills``, ``teams``, ``hours``."""
