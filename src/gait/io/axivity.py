"""stub"""
NAME = "axivity"


def sniff(src):
    return False


def read(src, *, fs_hz=None):
    raise NotImplementedError
