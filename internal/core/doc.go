// Package core owns the server's lifecycle and its request pipeline.
//
// Lifecycle: a Core starts sealed. Init splits a fresh root key with Shamir
// and initialises the barrier; Unseal collects key shares until the threshold
// is met, unseals the barrier and builds the unsealed state (mount tables,
// router, token store, policy store); Seal throws that state away and clears
// key material.
//
// Pipeline (HandleRequest): sealed check → route (longest mount prefix) →
// authenticate (token store) → authorise (compiled ACL of the token's
// policies; sudo for root paths) → call the engine with its storage view →
// mint tokens for login responses.
//
// Concurrency: the unsealed state is published through an atomic pointer and
// is immutable once published; mount changes build a new router and swap it
// in under mountMu. The request path takes no lock of its own.
//
// Core never imports an engine: factories arrive by type name in Config.
package core
