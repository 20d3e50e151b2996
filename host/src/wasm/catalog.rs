//! The host's side of the `catalog` interface: the schema before the revision, as the model
//! has it (and, online, with the names the database gave unnamed constraints), enums and the
//! other column options included.

use super::bindings::migrate::schema::catalog;
use super::recorder::Recorder;

impl catalog::Host for Recorder {
    fn table_names(&mut self) -> wasmtime::Result<Vec<String>> {
        Ok(self.view()?.schema.tables.keys().cloned().collect())
    }

    fn get_table(&mut self, name: String) -> wasmtime::Result<Option<catalog::TableView>> {
        let view = self.view()?;
        Ok(view
            .schema
            .table_view(&name, view.learned)
            .map(|model| catalog::TableView {
                definition: (&model.table).into(),
                indexes: model.indexes.iter().map(Into::into).collect(),
            }))
    }

    fn get_column_options(
        &mut self,
        table: String,
    ) -> wasmtime::Result<Vec<catalog::ColumnOptions>> {
        let view = self.view()?;
        let columns = view.schema.table(&table).map(|m| &m.table.columns);
        Ok(columns
            .into_iter()
            .flatten()
            .filter_map(super::columns::options_of)
            .collect())
    }
}

impl Recorder {
    fn view(&self) -> wasmtime::Result<&super::context::CatalogView> {
        // `Guests` gives every revision that imports `catalog` its schema; reaching this is a
        // host bug, stopped rather than answered with an empty schema.
        self.context.catalog.as_ref().ok_or_else(|| {
            wasmtime::Error::msg("internal: the schema before this revision was not given to it")
        })
    }
}
