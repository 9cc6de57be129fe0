//! The reads of a PostgreSQL store outside a write transaction.

use super::*;

impl StoreRead for PostgresStore {
    fn capabilities(&self) -> crate::store::Capabilities {
        crate::store::postgres_backend::CAPABILITIES
    }

    fn read_ahead(&self, keys: &[&CursorKey]) -> Result<Vec<Option<u64>>, StoreError> {
        self.in_read_transaction(|| write::read_ahead(self, keys))
    }

    fn cursor(&self, key: &CursorKey) -> Result<Option<CursorRow>, StoreError> {
        self.reconnect_if_lost()?;
        read::cursor(self, key)
    }

    fn visit_cursors(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&CursorRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| read::visit_cursors(self, filter, each))
    }

    fn visit_changes(
        &self,
        filter: &HistoryFilter,
        each: &mut dyn FnMut(&HistoryRow) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| read::visit_changes(self, filter, each))
    }

    fn change(&self, id: i64) -> Result<Option<HistoryRow>, StoreError> {
        self.reconnect_if_lost()?;
        read::change(self, id)
    }

    fn visit_batches(
        &self,
        each: &mut dyn FnMut(&crate::store::BatchRow) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| read::visit_batches(self, each))
    }

    fn visit_consumers(
        &self,
        filter: &crate::store::ConsumerFilter,
        each: &mut dyn FnMut(&crate::store::ConsumerSummary) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| read::visit_consumers(self, filter, each))
    }

    fn snapshot_info(&self, name: &str) -> Result<Option<crate::store::SnapshotRow>, StoreError> {
        snapshots::info(self, name)
    }

    fn visit_snapshots(
        &self,
        each: &mut dyn FnMut(&crate::store::SnapshotRow) -> Visit,
    ) -> Result<(), StoreError> {
        snapshots::visit(self, each)
    }

    fn visit_snapshot_cursors(
        &self,
        name: &str,
        each: &mut dyn FnMut(&CursorRow) -> Visit,
    ) -> Result<(), StoreError> {
        snapshots::visit_cursors(self, name, each)
    }

    fn highest_ids(&self) -> Result<Option<crate::store::HighestIds>, StoreError> {
        read::highest_ids(self).map(Some)
    }

    fn verify_history(&self) -> Result<Option<crate::store::chain::ChainReport>, StoreError> {
        verify::verify_history(self)
    }

    fn head(
        &self,
        key: &crate::key::PartitionKey,
    ) -> Result<Option<crate::store::HeadRow>, StoreError> {
        heads::head(self, key)
    }

    fn cursor_head(
        &self,
        key: &CursorKey,
    ) -> Result<(Option<CursorRow>, Option<crate::store::HeadRow>), StoreError> {
        heads::cursor_head(self, key)
    }

    fn visit_heads(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadRow) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| heads::visit_heads(self, filter, each))
    }

    fn visit_cursor_heads(
        &self,
        filter: &CursorFilter,
        each: &mut dyn FnMut(Result<&crate::store::CursorHeadRow, StoreError>) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| heads::visit_cursor_heads(self, filter, each))
    }

    fn visit_head_changes(
        &self,
        filter: &crate::store::HeadFilter,
        each: &mut dyn FnMut(&crate::store::HeadChangeRow) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| heads::visit_head_changes(self, filter, each))
    }

    fn lease(&self, key: &CursorKey) -> Result<Option<crate::store::LeaseRow>, StoreError> {
        leases::read_lease(self, key, false)
    }

    fn visit_leases(
        &self,
        consumer: Option<&str>,
        each: &mut dyn FnMut(&crate::store::LeaseRow) -> Visit,
    ) -> Result<(), StoreError> {
        self.in_read_transaction(|| leases::visit_leases(self, consumer, each))
    }
}
