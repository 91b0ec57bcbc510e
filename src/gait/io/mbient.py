"""stub"""
NAME = "mbient"


def sniff(src):
    return False


def read(src, *, fs_hz=None):
    raise NotImplementedError
