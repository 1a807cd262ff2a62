package report

import (
	"context"

	"github.com/specter-dev/specter/infer/diff"
	"github.com/specter-dev/specter/store"
)

// Load reads a report's input from a database: the endpoint summaries, the
// model (for the detail sections), the recorded findings, the runs and the
// traffic windows. Callers that diff against specs replace Findings.
func Load(ctx context.Context, db *store.DB) (Input, error) {
	var in Input
	var err error
	if in.Endpoints, err = db.Endpoints(ctx, ""); err != nil {
		return in, err
	}
	if in.Model, err = db.Model(ctx); err != nil {
		return in, err
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
	return in, nil
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
