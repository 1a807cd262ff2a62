package report

import (
	"context"
	"sort"

	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/store"
)

// Load reads a report's input from a database: the endpoint summaries (the
// gRPC methods among them, as endpoints), the
// recorded findings, the runs, the traffic windows, and the model of the
// services that have endpoints Build will detail (decoding every
// service's state would cost more than the rest together). Callers that
// diff against specs replace Findings (SpecFindings needs the whole model:
// use LoadAll). Each part is read in its own read transaction: against a
// writer, they may be a checkpoint apart.
func Load(ctx context.Context, db *store.DB) (Input, error) {
	return load(ctx, db, false)
}

// LoadAll is Load with the model of every service.
func LoadAll(ctx context.Context, db *store.DB) (Input, error) {
	return load(ctx, db, true)
}

func load(ctx context.Context, db *store.DB, all bool) (Input, error) {
	var in Input
	var err error
	if in.Endpoints, err = db.Endpoints(ctx, ""); err != nil {
		return in, err
	}
	// gRPC methods are rows of the tree as POST /pkg.Service/Method.
	grpcs, err := db.GRPCMethods(ctx, "")
	if err != nil {
		return in, err
	}
	for _, g := range grpcs {
		in.Endpoints = append(in.Endpoints, g.Endpoint())
	}
	if in.Findings, err = db.Findings(ctx); err != nil {
		return in, err
	}
	if in.Runs, err = db.Runs(ctx); err != nil {
		return in, err
	}
	if in.Traffic, in.TrafficPruned, err = db.Traffic(ctx); err != nil {
		return in, err
	}
	if all {
		in.Model, err = db.Model(ctx)
		return in, err
	}
	var names []string
	seen := map[string]bool{}
	for k := range pickDetails(in.Endpoints, findingsByEndpoint(in.Findings)) {
		if !seen[k.service] {
			seen[k.service] = true
			names = append(names, k.service)
		}
	}
	if len(names) == 0 {
		return in, nil
	}
	sort.Strings(names)
	in.Model, err = db.Model(ctx, names...)
	return in, err
}

// SpecFindings are the findings of an inventory against specs, as specter
// diff --db gives them: shadow, zombie and unused from the inventory
// (in.Model) and the specs as given now; noncompliance and authentication
// mismatches as the runs that checked exchanges recorded them
// (in.Findings).
func SpecFindings(in Input, specs []*diff.Spec) []diff.Finding {
	var recorded []diff.Finding
	for _, f := range in.Findings {
		switch f.Kind {
		case diff.KindShadow, diff.KindZombie, diff.KindUnused:
			// The inventory answers these.
		default:
			recorded = append(recorded, f)
		}
	}
	return diff.Merge(diff.Inventory(in.Model, specs), recorded)
}
