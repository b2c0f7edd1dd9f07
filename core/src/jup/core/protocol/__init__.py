"""The Jupyter messaging protocol: wire codec, signing, message constructors, connection files."""

from jup.core.protocol.messages import PROTOCOL_VERSION, make_header, make_message
from jup.core.protocol.session import Session
from jup.core.protocol.wire import DELIM, Signer, deserialize, enable_fast_json, serialize

__all__ = ["DELIM", "PROTOCOL_VERSION", "Session", "Signer", "deserialize", "enable_fast_json", "make_header",
           "make_message", "serialize"]
