//! Column handles of one table, resolved by name once per sink, for the tables whose
//! columns are not in the shared [`crate::sink::Cols`] set.

/// `table_cols!(Name { ColA, ColB })` defines `struct Name` with one [`crate::sink::Col`]
/// per listed column and `Name::of(&sink)` resolving them (a column the table lacks
/// resolves to [`crate::sink::Col::NONE`] and is ignored on write).
macro_rules! table_cols {
    ($name:ident { $($col:ident),* $(,)? }) => {
        #[allow(non_snake_case)]
        #[derive(Debug, Clone, Copy)]
        struct $name {
            $($col: crate::sink::Col,)*
        }

        impl $name {
            fn of(s: &crate::sink::Sink) -> Self {
                $name { $($col: s.col(stringify!($col)),)* }
            }
        }
    };
}
