package registry

import (
	"context"
	"fmt"
)

// ObjectKeys returns every object key a registry row refers to: both files
// of every certificate version and the file of every usage copy. The
// sweep of unreferenced objects removes only what is not in this set.
func (r *Registry) ObjectKeys(ctx context.Context) (map[string]struct{}, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT ofd_key FROM certificates
		UNION ALL SELECT pdf_key FROM certificates
		UNION ALL SELECT object_key FROM usage_copies`)
	if err != nil {
		return nil, fmt.Errorf("registry: object keys: %w", err)
	}
	defer rows.Close()
	keys := map[string]struct{}{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("registry: object keys: %w", err)
		}
		keys[k] = struct{}{}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("registry: object keys: %w", err)
	}
	return keys, nil
}
