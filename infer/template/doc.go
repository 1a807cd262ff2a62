// Package template decides endpoint templates (/users/{userId}) from the
// concrete request paths seen on the wire.
//
// # Evidence
//
// Each service has a Trie: one node per path position, shared across
// methods, holding the distinct values seen at that position with their
// counts, the methods whose paths end there, and the subtree below each
// value. It is bounded (Limits): past MaxChildren distinct variable-looking
// values at a position (twice that for word-looking ones), or MaxNodes per
// trie, further values are folded into overflow nodes keyed by the value's
// shape and extension, which keep the subtree and the type evidence.
//
// # Decisions
//
// Templates are computed from the trie when asked for (Trie.Endpoints), so
// they are deterministic (sorted iteration, no randomness) and revised as
// evidence arrives. Walking down from the root, the values at a position
// (the union of the nodes earlier decisions merged) are split into static
// segments and parameter groups:
//
//  1. Shape (Classify): integers, UUIDs, hex, dates, e-mails, prefixed ids
//     (cus_8sJd2…), long mixed tokens are strong: a parameter even when seen
//     once. Names (letters with digits: alice42, ops-959) are weak: a
//     parameter with a sibling name, or alone when confident (a run of two
//     or more digits). Words (users, me, recently-played) are static unless
//     the rules below say otherwise. An extension (".json") is kept as a
//     suffix of the parameter; when values carry several extensions they
//     are file names and the parameter takes the whole segment, and so
//     wherever the route word before them occurs, one file or many
//     (/receipts/{id}/attachments/{filename} beside invoices' .pdf and
//     .md attachments). A
//     custom-method verb after a value (key_8sJd2:disable) is a suffix
//     too, one template per verb. A route word glued by a dot to values
//     beside the route itself (stream, stream.mp4-hd) is a literal prefix
//     of the parameter (stream.{streamName}). Values are classified decoded
//     (ann%40example.com is an e-mail address). A dotted name whose only
//     digits are a version token (oauth.v2.access) is a word; three or
//     more numbered names of the same letters (c1, c2, c10) are names; a
//     numbered name whose letters are a route beside it, followed by the
//     same route word (sample10 beside sample), is a route. Beside ids,
//     rare short keys spelled as no route word is (random case jiKF, a
//     digit first or inside: 5sz, i2qve) are ids, three of them, or one
//     in random case beside many ids.
//  2. A lone version-like value near the root (v1, 2.0, 1, 2010-04-01) with
//     a subtree is a constant prefix.
//  3. Words join a group of names (never a group of strong ids: /users/me
//     stays beside /users/{userId}) only as a population of values: rare
//     (not recurring far more than a value does), structurally compatible
//     (the same methods end there, and their subtrees route like the
//     group's, recursively; /users/login GET beside /users/{name}/repos
//     stays static), and numerous enough; one-token words (login, search)
//     need many such siblings, compound ones (heidi-edge) fewer.
//     With no id or name beside them, compound words (video_startup_time)
//     are a parameter when they are a population of rare values: at least
//     two, each seen at most twice, most of the position's values, each
//     leading to a route word another shares (/metrics/{metric}/overall)
//     and routing alike; words followed straight by values stay routes
//     (/topics/private-messages/{username}). Many of them (manyRare),
//     nearly all the position, are a parameter by numbers alone: their
//     subtrees are too sparse to compare one by one. Four or more leaf
//     words, each requested once with the same methods and alone at the
//     position (beside sub-routes at most: /search/name/...), are lookups
//     by name (/search/{query}). Other compound
//     words routing like such a population and requested about as
//     often join it, and so do, growing it until nothing changes,
//     compound words whose route words are at least half the
//     population's (/metrics/{metric}/timeseries seen only for a few).
//     Beside strong ids, three or more short keys in
//     random case (jiKF, 5JDl: a capital after a small letter not
//     starting a hump, or a small letter closing two capitals), each
//     seen at most twice and routing like the ids, are ids; camel-case
//     and one-case words (byName, iPhone, HTTP) stay routes. A word
//     requested far more than the names beside it still joins them when
//     what follows it is itself values (a popular owner:
//     /repos/{owner}/{repo}); /users/me routes words.
//  4. A small word set that recurs under several sibling routes, each time
//     with only values below (/1/metadata/{auto|sandbox}/{path},
//     /1/search/{auto|sandbox}/{path}), is an enum parameter, where a
//     route holds at least two of the words: one recurring word per
//     route (/mail/users/{id}, /calls/users/{id}) is a shared resource.
//     It needs three or more words (a recurring pair is as often two
//     routes: subscribe, unsubscribe) whose requests mostly end at the
//     same depth, at most maxEnumTail levels below (words heading long
//     chains are reports of their own). Words all followed by one such
//     enum, with the same methods below, are an enum too
//     (/{project}/{user|bot|anonymous}/{content|all}/{date}).
//     A route word recurring at three or more places of the tree
//     (/items/{id}/images, /users/{id}/images, /genres/{name}/images),
//     where four or more words follow it in two places or more and at
//     least half of them address items in turn (/images/primary/0), is
//     a collection: those words are an enum parameter after it
//     everywhere. Each place holds only the values its clients asked
//     for, so the set shows only across the tree; leaf words alone
//     (/servers/{id}/actions/{reboot|resize}) stay routes. Subtrees
//     holding different values of a collection route alike
//     (/genres/{name}/images/{imageType}). Beside two or more of a
//     collection's values, a word asked for in that place only joins
//     them when it routes like them with the same methods below
//     (/items/{id}/images/logo/0); leaf routes beside addressing values
//     stay routes.
//  5. Inside a collection (below a route word), words that nearly all
//     route through the same word to values
//     (/namespaces/{default|kube-system}/pods/{pod}) are a parameter.
//  6. Chains of few-valued parameters (chain.go): words of one position
//     each followed only by the same further words, with the same
//     methods and depth below (/{project}/{user|bot}/{content|all}/...),
//     route alike and are values; a word set followed by values that
//     recurs under three or more different routes
//     (/new/{p}/{daily|monthly}/..., /sum/{p}/{t}/{daily|monthly}/...)
//     is a parameter's value set wherever it recurs; words that recur
//     below each other (/from/{de|en|fr}/to/{de|en|fr}) are values
//     taken twice. The first two need the whole tree: a first walk
//     gathers them and, when it found any, a second walk decides with
//     them (alike words then count as values when comparing subtrees).
//  7. Words decided values of a parameter after a route word in one
//     place are values after the same route word elsewhere, when a
//     position holds two or more of them, most of its words
//     (/realtime/metrics/{metric}/breakdown beside the monitoring
//     metrics'): a second pass takes the first pass's decisions as the
//     evidence, only when some place would change.
//  8. Declared templates (Options.Priors, e.g. from a spec) claim the paths
//     they match first, literal segments before parameters; configured
//     static values (Options.Static) are never parameters.
//
// # Explanations
//
// Trie.Explain runs the same decisions for one concrete path and says,
// per segment, which rule made it a literal or a parameter and on what
// evidence (shape, requests, sibling values). The reasons are noted only
// when asked for, so Endpoints costs what it did.
//
// Parameters are named from the nearest preceding literal (users ->
// userId for ids, user -> username for names, filename, date, email) and
// made unique within the path; they are typed per method from the values
// that led to that method's requests (integer/int64, string with uuid,
// date, date-time or email format when at least two thirds of them agree).
// Values of requests the server rejected (400, 404, 422) count only when
// a method has no other; a method seen only with rejected values takes
// the type of the accepted values at its position. Digits are a string
// when a tenth or more of a position's digit values are written as no
// integer is (a leading zero, more digits than a JSON number holds).
package template
