// Package diff compares observed HTTP traffic with declared OpenAPI specs.
//
// LoadSpec loads OpenAPI 3.0/3.1 and Swagger 2.0 documents (kin-openapi;
// Swagger converted with openapi2conv). A spec is attached to the services
// its servers (Swagger: host) name, or to every service when they name
// none, or explicitly with Spec.AttachTo (--spec-host HOST=FILE). Requests
// match declared operations after a server base path ("/api/v3/pet/1"
// matches "/pet/{petId}" under server "/api/v3"; server variables take
// their default and enum values), static segments before parameters, like
// a router.
//
// Path items and operations may declare their own servers (an operation's
// count for its path item when the item declares none): Split makes one
// spec per set. Attachments reports, per spec file, the services of the
// traffic it was attached to: a spec attached to none checked nothing,
// and its "no findings" means nothing (the command line fails on it unless
// --allow-unattached; the path items of an attached file whose servers
// matched no service are listed in unattached_servers). The JSON report
// carries them under "specs", SARIF as tool configuration notifications
// (spec-attached, spec-partly-attached, spec-unattached,
// service-unchecked).
//
// A Checker checks every exchange as it streams by (Check) and accumulates
// findings (Findings); Inventory computes the inventory-only kinds from an
// infer.Model. Findings are plain JSON values that Merge combines by
// fingerprint.
//
// # Findings
//
// Over stored data (Inventory) an inferred template that matches no
// declared path as a whole is not shadow as a whole: the concrete paths
// the inventory observed under it (infer.Model.ObservedPaths) are matched
// one by one, so a template merging declared static routes
// (/ipam/{x}/{id} over /ipam/prefixes/{id} and /ipam/vlans/{id}) counts
// as traffic to them; only the paths no operation declares are shadow,
// named in the finding's paths (at most 16, paths_more counts the rest).
// Segments the inventory folded past its limits kept only their shape and
// match declared parameters only.
//
// Every finding has: kind, rule, service (infer.ServiceName) and host (its
// host without port), method, path (the declared template, server base
// path included; for shadow endpoints the inferred template), severity,
// count (exchanges), first/last seen, a short reason (with the JSON
// pointer of the failing value and the failed keyword for schema
// violations), one redacted example (query values and bodies through
// package sensitive), the spec file and line of the operation where there
// is one, and a fingerprint: the first 12 bytes of SHA-256 over kind,
// service, method, template and rule, never counts or times, so it is
// stable across runs.
//
//   - shadow (high), rule undeclared-path — shadow endpoint: a request whose
//     path matches no path of any spec attached to its service. Reported per
//     template inferred (package infer, without the specs as priors, after
//     cutting the server base path) from such requests only. Also a request
//     routed to a declared parameter whose value is a plain word (letters
//     only) when that parameter otherwise takes identifier-like values and
//     at most 4 distinct words (GET /tags/search routed to /tags/{tag}): an
//     undeclared static path, reported with the word in the template.
//   - shadow (high), rule undeclared-method — shadow method: a request whose
//     path matches a declared path that has no operation for its method.
//     (When inference shows the traffic's segment under a declared
//     parameter is a literal, it is a shadow endpoint instead.)
//   - zombie (medium), rule deprecated: a request matched to an operation
//     marked deprecated: true.
//   - unused (info), rule no-traffic: a declared operation, not deprecated,
//     matched by no request of a service the spec is attached to, while that
//     service had traffic. The window is the service's first to last
//     request seen by the checker (for Inventory, in the model); a spec
//     attached to every service counts only for services that used it.
//   - noncompliant_request (medium): a request matched to an operation whose
//     path, query, header or cookie parameters or body violate the declared
//     schema (kin-openapi openapi3filter.ValidateRequest; rule
//     "<in>.<name>:<keyword>" or "body<pointer>:<keyword>", array indexes in
//     pointers as *), or that carries a query parameter the operation and its
//     path item do not declare (rule query:undeclared, naming in params every
//     undeclared name seen, at most 64, sorted; API keys of declared
//     apiKey-in-query schemes are credentials, and operations with an
//     object-typed query parameter accept any name). Bodies that kin-openapi
//     cannot decode (unsupported media types) are not findings.
//   - noncompliant_response (low): the response status is not declared
//     (exact, nXX, or default; rule status:<code>), its content type is not
//     declared for that status (rule content-type:<code>), or its body or
//     headers violate the declared schema (openapi3filter.ValidateResponse;
//     rule response.body<pointer>:<keyword>). 1xx, 304 and HEAD are not
//     checked.
//   - auth_mismatch (high), rule unauthenticated-2xx: the operation requires
//     security (its own or the document's, with no empty {} alternative),
//     the request carries no credential (none found by package auth, and
//     none in the header, query or cookie a declared apiKey scheme names),
//     and the response is 2xx.
//   - anomaly (high), rule the anomaly's name: an exchange whose wire form
//     Options.Anomalies reports suspicious (Content-Length with
//     Transfer-Encoding and other request-smuggling shapes, a message paired
//     after the parser resynchronized), whether a spec is attached to its
//     service or not. One finding per service, method and anomaly, path
//     empty (the framing is at fault, not an operation), the request in the
//     example.
//
// With a declared GraphQL schema (SDL or introspection JSON,
// LoadGraphQLSchema), GraphQLFindings checks the GraphQL operations infer
// found behind each endpoint (package infer/operations): shadow for
// undeclared root fields, operation types, fields and arguments (rules
// graphql-undeclared-*), zombie for deprecated fields, arguments and enum
// literals used (graphql-deprecated), introspection (medium) for
// __schema/__type queries in the traffic, noncompliant_request for
// documents the schema's validation rejects (graphql-invalid), unused for
// root fields no operation selected (graphql-no-traffic). Each rule ends
// in ":" and the schema coordinate, so each field is its own finding.
// Enum values passed in variables are not checked (variables' values are
// not kept).
//
// # Cost and bounds
//
// Routing, deprecation, undeclared query parameters, status, content type
// and authentication are checked on every exchange. Request parameters and
// bodies (openapi3filter) are validated on every exchange too, except that
// a request whose shape — query names and the kinds of their values
// (integer, number, boolean, or the string's shape: word, uuid, email,
// ...), path parameter value kinds, content type, and the JSON body's
// structure (keys and value kinds) — already validated clean for the
// operation is validated one time in Options.SampleEvery
// (Stats.RequestsSampled): a missing field, a wrong type or a malformed id
// changes the shape, a value out of range within the same kind is caught
// on the sample only. Response schemas (bodies and headers: most of the
// cost) are validated for the first Options.SampleAfter (5) responses of
// each operation, then one in Options.SampleEvery (20), and in total at
// most one per Options.ResponseEvery (128) exchanges after a burst of
// Options.ResponseBurst (256) (Stats.Sampled counts the skipped ones); a
// negative SampleAfter validates everything. For OpenAPI 3.1 operations
// without JSON Schema 2020-12 keywords, kin-openapi's built-in validator is
// used (kin compiles a 2020-12 validator on every call otherwise). Bodies
// over Options.MaxBody (64 KiB), truncated, with gaps or not decodable are
// not validated (Stats.BodiesSkipped). At most Options.MaxFindings distinct
// findings are kept (further fingerprints are counted in
// Stats.DroppedFindings), at most Options.MaxServices services are
// tracked, at most 64 clean request shapes per operation are remembered,
// and the shadow inventories have infer's limits. Memory grows with
// declared operations, services and distinct findings, not with exchanges.
//
// $refs are followed to local files only, never to URLs.
package diff
