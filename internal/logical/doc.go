// Package logical is the contract between kinko's core and every secrets
// engine and auth method: the Request and Response types, the Backend
// interface, the error sentinels the HTTP layer maps to status codes, and a
// small path framework (patterns, typed fields, one handler per operation)
// from which routing, field validation and help text are all derived.
//
// Engines import only this package (and storage-independent helpers); they
// never import core. All engine state lives in the Storage view handed to the
// engine in each Request, so engines are stateless apart from caches.
package logical
