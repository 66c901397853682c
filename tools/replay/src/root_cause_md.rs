//! The report's "Root cause" section: the named site, so that a reader goes from symptom to
//! line of code without a debugger.

use std::fmt::Write as _;

use super::{report::PhaseReport, root_cause::RootCause};

pub fn section(leaky: &PhaseReport, fixed: &PhaseReport) -> String {
    let mut md = String::from("## Root cause, named by the fleet\n\n");
    match leaky.root_cause.as_ref() {
        Some(RootCause {
            named_after_s: Some(after),
            site: Some(site),
            share,
            site_tasks,
            ..
        }) => {
            let _ = writeln!(
                md,
                "{after:.0} s into the leaky storm, `{site}` held {} of the alive tasks ({:.0} %), \
                 read from `GET /debug/tasks` (task accounting by spawn site; see `leakstorm tasks`).",
                site_tasks.unwrap_or(0),
                share.unwrap_or(0.0) * 100.0
            );
        }
        _ => md.push_str("The leaky storm did not name a spawn site (see the table above).\n"),
    }
    match fixed.root_cause.as_ref() {
        Some(rc) if rc.named_after_s.is_none() => {
            let _ = writeln!(
                md,
                "\nFixed storm: no site accumulated tasks; the most any one site held at a sample \
                 was {} (`{}`).\n",
                rc.peak_site_tasks,
                rc.peak_site.as_deref().unwrap_or("–")
            );
        }
        Some(rc) => {
            let _ = writeln!(
                md,
                "\nFixed storm: `{}` held most alive tasks above the alert threshold — the fix did \
                 not hold.\n",
                rc.site.as_deref().unwrap_or("–")
            );
        }
        None => md.push('\n'),
    }
    md
}
