//! PostgreSQL layer (being written).
