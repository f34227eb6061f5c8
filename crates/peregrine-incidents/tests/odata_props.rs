//! Property tests: the `$filter` parser and the list options never panic, whatever the
//! input, and what parses is accepted again when printed from its parts.

use peregrine_incidents::odata::{Api, parse_filter, parse_options};
use proptest::prelude::*;

/// Pieces that make near-valid filters more likely than random text does.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("status".to_string()),
        Just("lastUpdateTime".to_string()),
        Just("createdTime".to_string()),
        Just("assignedTo".to_string()),
        Just("severity".to_string()),
        Just("eq".to_string()),
        Just("ne".to_string()),
        Just("ge".to_string()),
        Just("lt".to_string()),
        Just("and".to_string()),
        Just("or".to_string()),
        Just("not".to_string()),
        Just("(".to_string()),
        Just(")".to_string()),
        Just("'Active'".to_string()),
        Just("'".to_string()),
        Just("''".to_string()),
        Just("null".to_string()),
        Just("2020-09-06T14:46:57Z".to_string()),
        Just("datetime'2020-09-06'".to_string()),
        "[a-zA-Z0-9:.'()-]{0,12}",
        "\\PC{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn filter_parser_never_panics(s in "\\PC{0,200}") {
        for api in [Api::DefenderIncidents, Api::GraphIncidents, Api::GraphAlerts] {
            let _ = parse_filter(&s, api);
        }
    }

    #[test]
    fn near_valid_filters_never_panic(parts in prop::collection::vec(piece(), 0..40)) {
        let s = parts.join(" ");
        for api in [Api::DefenderIncidents, Api::GraphIncidents, Api::GraphAlerts] {
            let _ = parse_filter(&s, api);
        }
    }

    #[test]
    fn options_never_panic(k in "\\$?[a-zA-Z]{0,8}", v in "\\PC{0,40}") {
        for api in [Api::DefenderIncidents, Api::GraphIncidents, Api::GraphAlerts] {
            let _ = parse_options(&[(k.clone(), v.clone())], api);
        }
    }

    #[test]
    fn valid_comparisons_parse(
        field in prop::sample::select(vec!["status", "assignedTo", "lastUpdateTime", "createdTime"]),
        op in prop::sample::select(vec!["eq", "ne"]),
        n in 0usize..5,
    ) {
        let value = match field {
            "status" => "'InProgress'".to_string(),
            "assignedTo" => "'a''b@c.com'".to_string(),
            _ => "2021-01-26T01:00:37.8404534Z".to_string(),
        };
        let one = format!("{field} {op} {value}");
        let many = vec![one; n + 1].join(" or ");
        let nested = format!("{}{many}{}", "(".repeat(n), ")".repeat(n));
        prop_assert!(parse_filter(&nested, Api::DefenderIncidents).is_ok(), "{}", nested);
    }
}
