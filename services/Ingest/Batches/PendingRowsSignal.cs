using Ctm.ServiceDefaults.Storage;

namespace Ctm.Ingest.Batches;

/// <summary>Wakes the row batcher when row events are committed (PostgreSQL notifies every replica on each insert).</summary>
public sealed class PendingRowsSignal : WakeSignal;
