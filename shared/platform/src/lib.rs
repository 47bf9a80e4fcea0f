//! Lambda glue (being written).
