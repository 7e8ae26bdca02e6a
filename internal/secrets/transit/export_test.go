package transit

// KWPWrap exposes the RFC 5649 key wrap to the external tests, which wrap
// keys for import as a client would.
var KWPWrap = kwpWrap
