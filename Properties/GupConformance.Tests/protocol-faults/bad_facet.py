"""Bad manifest: claims the iov_iter facet under linux-5.6, which has no iov_iter."""
from faultlib import run


def hello(reply):
    reply["manifests"] = [{"profile": "linux-5.6", "facets": ["core", "iov_iter"]}]
    return reply


run(lambda msg, honest: None, hello=hello)
