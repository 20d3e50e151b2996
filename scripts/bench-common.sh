# Sourced by scripts/bench, scripts/bench-fleet and scripts/symbol-order; needs $repo, and
# $migrate (the binary) where a function runs it.

# migrate_binary: the binary to measure, as an absolute path: $MIGRATE_BIN, else a fresh
# release build for the shipped target (scripts/static-target).
migrate_binary() {
  if [ -n "${MIGRATE_BIN:-}" ]; then
    echo "$(cd "$(dirname "$MIGRATE_BIN")" && pwd)/$(basename "$MIGRATE_BIN")"
  else
    local target; target=$("$repo/scripts/static-target")
    (cd "$repo" && cargo build --release --locked -q -p migrate ${target:+--target "$target"}) >&2
    echo "$repo/target/${target:+$target/}release/migrate"
  fi
}

# deployment PROJECT DEST: what a server gets, the project's build/ and a settings file for a
# SQLite database in DEST, and nothing else (no sources, no cache).
deployment() {
  local project=$1 dest=$2
  rm -rf "$dest"; mkdir -p "$dest/migrations"
  cp -r "$project/migrations/build" "$dest/migrations/"
  printf 'database_url = "sqlite://%s/app.db"\n' "$dest" > "$dest/migrate.toml"
}

# generate N: a linear chain through `migrate new`. Revision i creates table t{i} when
# i % 5 == 1, else adds a nullable column c{i} (integer, varchar(64), boolean in turn) to the
# latest table; each downgrade undoes it. Also writes the floor script.
generate() {
  local n=$1 dir=$2
  rm -rf "$dir"; mkdir -p "$dir"; cd "$dir"
  "$migrate" init >/dev/null
  printf 'database_url = "sqlite://%s/app.db"\n' "$dir" > migrate.toml
  local table="" floor="$dir/floor.sql"
  echo "CREATE TABLE migrate_version (revision VARCHAR(64) NOT NULL PRIMARY KEY);" > "$floor"
  for i in $(seq "$n"); do
    local id; id=$(printf 'r%05d' "$i")
    "$migrate" new --rev-id "$id" -m "step $i" >/dev/null
    local lib; lib=$(ls -d migrations/versions/${id}_*)/src/lib.rs
    local up down ddl
    if [ $((i % 5)) -eq 1 ]; then
      table="t$i"
      up="op::create_table(Table::new(\"$table\").column(Column::new(\"id\", Type::Integer).primary_key()).column(Column::new(\"name\", Type::Varchar(255)).not_null()).column(Column::new(\"created_at\", Type::Timestamp)));"
      down="op::drop_table(\"$table\");"
      ddl="CREATE TABLE \"$table\" (\"id\" INTEGER NOT NULL PRIMARY KEY, \"name\" VARCHAR(255) NOT NULL, \"created_at\" TIMESTAMP);"
    else
      local kinds=("Type::Integer" "Type::Varchar(64)" "Type::Boolean") natives=("INTEGER" "VARCHAR(64)" "BOOLEAN")
      local k=$((i % 3))
      up="op::add_column(\"$table\", Column::new(\"c$i\", ${kinds[$k]}));"
      down="op::drop_column(\"$table\", \"c$i\");"
      ddl="ALTER TABLE \"$table\" ADD COLUMN \"c$i\" ${natives[$k]};"
    fi
    cat > "$lib" <<RS
#![no_std]
use migrate_guest_sdk::prelude::*;
fn upgrade() -> Result { $up Ok(()) }
fn downgrade() -> Result { $down Ok(()) }
migrate_guest_sdk::revision!(upgrade, downgrade);
RS
    printf 'BEGIN;\n%s\nINSERT INTO migrate_version VALUES (%s);\nCOMMIT;\n' "$ddl" "'$id'" >> "$floor"
  done
  cd "$repo"
}

