//! kql-testkit
