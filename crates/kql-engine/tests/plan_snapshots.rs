//! Snapshot tests of the DataFusion logical plans the planner builds, and regression
//! tests for plan shapes DataFusion's optimizer mishandles.
#![allow(clippy::unwrap_used)]

use datafusion::arrow::array::{Array, Int64Array};
use kql_engine::{Engine, QueryOptions};

fn plan(q: &str) -> String {
    let e = Engine::defender();
    let p = e.plan(q, 0).unwrap();
    format!("{}", p.plan.display_indent())
}

#[test]
fn plan_of_summarize_and_sort() {
    insta::assert_snapshot!(plan(
        "DeviceProcessEvents | where FileName =~ 'cmd.exe' | summarize n = count() by DeviceName | top 5 by n"
    ));
}

#[test]
fn plan_of_innerunique_join() {
    insta::assert_snapshot!(plan(
        "datatable(k:long, a:string)[1,'x'] | join (datatable(k:long, b:string)[1,'y']) on k"
    ));
}

#[test]
fn plan_of_join_with_a_literal_table() {
    // The IOC list filters the events before the join (and so reaches their scan).
    insta::assert_snapshot!(plan(
        "let IOCs = datatable(F:string, Note:string)['whoami.exe', 'recon', 'net.exe', 'recon'];\
         DeviceProcessEvents | project DeviceName, FileName | join kind=inner IOCs on $left.FileName == $right.F"
    ));
}

#[tokio::test]
async fn self_shadowing_extend_chain_is_evaluated_in_order() {
    // DataFusion 55 merges `x + 1 AS x` chains wrongly; the planner routes them through
    // temporary names. Kusto: x = 16, y = 4.
    let e = Engine::defender();
    let r = e
        .run(
            "print x = 1 | extend x = x + 1 | extend x = x + 1 | extend x = x + 1 | extend y = x | extend x = y * x | project x, y",
            &QueryOptions::default(),
        )
        .await
        .unwrap();
    let b = &r.batches[0];
    let x = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
    let y = b.column(1).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!((x.value(0), y.value(0)), (16, 4));
    assert_eq!(x.len(), 1);
}
