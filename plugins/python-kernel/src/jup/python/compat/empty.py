"""Body of the IPython packages (IPython.core, IPython.lib, IPython.utils) that only hold modules."""
