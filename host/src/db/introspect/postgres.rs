//! PostgreSQL: pg_catalog, for the current schema.

use migrate_core::model_sql::{parse_catalog_type, CatalogType};
use migrate_core::types::DataType;
use sqlx::AnyConnection;

use super::{
    column_rows, referential_action, split_list, text_rows, Catalog, CatalogConstraint,
    CatalogIndex, CatalogKind,
};

const COLUMNS: &str = "
SELECT cl.relname::text, a.attname::text,
       CASE WHEN ty.typtype = 'e'
            THEN 'enum:' || ty.typname::text || chr(31) || array_to_string(ARRAY(
                     SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = ty.oid ORDER BY e.enumsortorder), chr(31))
            ELSE format_type(a.atttypid, a.atttypmod) END,
       CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN a.attidentity <> '' OR coalesce(pg_get_expr(d.adbin, d.adrelid), '') LIKE 'nextval(%' THEN 'YES' ELSE 'NO' END,
       CASE a.attgenerated WHEN 's' THEN 'STORED' WHEN 'v' THEN 'VIRTUAL' ELSE '' END,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END,
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' ELSE '' END,
       seq.seqstart::text, seq.seqincrement::text
FROM pg_attribute a
JOIN pg_class cl ON cl.oid = a.attrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
-- An identity column's own sequence, looked up once per identity column.
LEFT JOIN LATERAL (
    SELECT s.seqstart, s.seqincrement FROM pg_sequence s
    WHERE a.attidentity <> ''
      AND s.seqrelid = pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(cl.relname), a.attname)::regclass
) seq ON true
WHERE n.nspname = current_schema() AND cl.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY cl.relname, a.attnum";

const CONSTRAINTS: &str = "
SELECT cl.relname::text, con.conname::text, con.contype::text,
       array_to_string(ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(num, pos)
                             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.pos), chr(31)),
       fcl.relname::text,
       array_to_string(ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(num, pos)
                             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.pos), chr(31)),
       con.confdeltype::text, con.confupdtype::text,
       CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END
FROM pg_constraint con
JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
LEFT JOIN pg_class fcl ON fcl.oid = con.confrelid
WHERE n.nspname = current_schema() AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY cl.relname, con.conname";

// Indexes that back a constraint belong to the constraint. Each key part comes as a kind
// (C column, E expression), an order (A, D) and its text; then the condition, then the
// INCLUDE columns.
const INDEXES: &str = "
SELECT t.relname::text, i.relname::text, CASE WHEN ix.indisunique THEN 'YES' ELSE 'NO' END,
       array_to_string(ARRAY(
           SELECT CASE WHEN ix.indkey[k.pos - 1] = 0 THEN 'E' ELSE 'C' END
                  || CASE WHEN (ix.indoption[k.pos - 1] & 1) = 1 THEN 'D' ELSE 'A' END
                  || CASE WHEN ix.indkey[k.pos - 1] = 0
                          THEN pg_get_indexdef(ix.indexrelid, k.pos, true)
                          ELSE (SELECT a.attname::text FROM pg_attribute a
                                WHERE a.attrelid = t.oid AND a.attnum = ix.indkey[k.pos - 1]) END
           FROM generate_series(1, ix.indnkeyatts::int) AS k(pos) ORDER BY k.pos), chr(31)),
       pg_get_expr(ix.indpred, ix.indrelid, true),
       array_to_string(ARRAY(
           SELECT a.attname::text FROM generate_series(ix.indnkeyatts::int + 1, ix.indnatts::int) AS k(pos)
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ix.indkey[k.pos - 1]
           ORDER BY k.pos), chr(31))
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema()
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u', 'x'))
ORDER BY t.relname, i.relname";

pub(super) async fn catalog(conn: &mut AnyConnection) -> anyhow::Result<Catalog> {
    let mut catalog = Catalog {
        columns: column_rows(conn, COLUMNS, |marker| marker == "YES").await?,
        ..Catalog::default()
    };
    for row in text_rows(conn, CONSTRAINTS).await? {
        let text = |i: usize| row[i].clone().unwrap_or_default();
        let (table, name) = (text(0), text(1));
        let kind = match text(2).as_str() {
            "p" => CatalogKind::PrimaryKey,
            "u" => CatalogKind::Unique,
            "f" => CatalogKind::ForeignKey {
                referred_table: text(4),
                referred_columns: split_list(&text(5)),
                on_delete: referential_action(&text(6)),
                on_update: referential_action(&text(7)),
            },
            _ => CatalogKind::Check(text(8)),
        };
        // PostgreSQL names unnamed checks `<table>_<column>_check`, `<table>_check1`, ...
        let generated_check = matches!(kind, CatalogKind::Check(_))
            && name.starts_with(&format!("{table}_"))
            && name
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .ends_with("check");
        catalog.constraints.push(CatalogConstraint {
            columns: split_list(&text(3)),
            name: (!generated_check).then_some(name),
            table,
            kind,
        });
    }
    for row in text_rows(conn, INDEXES).await? {
        let text = |i: usize| row[i].clone().unwrap_or_default();
        let mut columns = vec![];
        let mut keys = vec![];
        for part in split_list(&text(3)) {
            let (kind, rest) = part.split_at(part.len().min(1));
            let (order, body) = rest.split_at(rest.len().min(1));
            columns.push(body.to_string());
            keys.push(migrate_core::types::IndexKey {
                expression: kind == "E",
                descending: order == "D",
                prefix_length: None,
            });
        }
        catalog.indexes.push(CatalogIndex {
            table: text(0),
            name: text(1),
            unique: text(2) == "YES",
            columns,
            keys,
            predicate: row[4].clone(),
            include: split_list(&text(5)),
        });
    }
    Ok(catalog)
}

/// `format_type` spellings (`character varying(80)`, `timestamp without time zone`), and
/// `enum:<name>␟<value>␟…` for an enum type (see COLUMNS).
pub(super) fn portable_type(native: &str) -> Result<CatalogType, String> {
    if let Some(spelled) = native.strip_prefix("enum:") {
        let mut parts = split_list(spelled).into_iter();
        let name = parts.next().unwrap_or_default();
        return Ok(CatalogType::portable(DataType::Enum {
            name,
            values: parts.collect(),
        }));
    }
    parse_catalog_type(native)
}
