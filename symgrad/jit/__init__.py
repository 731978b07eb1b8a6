"""Work in progress."""

def compile(*args, **kwargs):
    raise NotImplementedError("compile is not implemented yet")

def Kernel(*args, **kwargs):
    raise NotImplementedError("Kernel is not implemented yet")
