//! The flow-log checks a policy file turns on with `[[check]]`: a VPC without an active flow
//! log of its own (`vpc-flow-logs`, CIS AWS Foundations 3.7), a flow log whose deliveries fail
//! (`flow-log-delivery`), and a format without the fields explanations need
//! (`flow-log-fields`). They read the snapshot's flow-log configuration ([`Coverage`]); where
//! the snapshot did not hold it (no `FlowLogs` key), they say `unknown`, never "no flow log".

use super::analysis::{finding, sort, AuditResult};
use super::FindingStatus;
use crate::coverage::{Coverage, LogCoverage};
use crate::policy::Check;

/// Why a check cannot be decided without the `FlowLogs` key.
const NOT_IN_SNAPSHOT: &str = "flow-log configuration not in the snapshot";

fn active(l: &LogCoverage) -> bool {
    l.status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE"))
}

/// Runs the flow-log checks of `checks` on the coverage of a snapshot, adding their findings
/// to `res` (kept in the static audit's order).
pub fn flow_log_audit(res: &mut AuditResult, coverage: &Coverage, checks: &[Check]) {
    // `res.statements` counts statements; checks are not statements.
    for c in checks {
        match c.check.as_str() {
            "vpc-flow-logs" => vpcs(coverage, c, res),
            "flow-log-delivery" | "flow-log-fields" => logs(coverage, c, res),
            _ => {}
        }
    }
    sort(&mut res.findings);
}

fn unknown(c: &Check, resources: Vec<String>, what: &str) -> super::Finding {
    finding(
        &c.id,
        c.severity,
        FindingStatus::Unknown,
        resources,
        None,
        vec![NOT_IN_SNAPSHOT.to_string()],
        format!("{what}: {NOT_IN_SNAPSHOT} (no `FlowLogs` key was read for it: save `aws ec2 describe-flow-logs` beside the other files)"),
    )
}

fn vpcs(coverage: &Coverage, c: &Check, res: &mut AuditResult) {
    for v in &coverage.vpcs {
        if !v.known {
            res.findings.push(unknown(
                c,
                vec![v.id.clone()],
                &format!("whether VPC {} has a flow log cannot be told", v.id),
            ));
            continue;
        }
        let own: Vec<&LogCoverage> = coverage
            .flow_logs
            .iter()
            .filter(|l| l.resource_id.as_deref() == Some(v.id.as_str()))
            .collect();
        if own.iter().any(|l| active(l)) {
            continue;
        }
        let inactive: Vec<String> = own
            .iter()
            .map(|l| {
                format!(
                    "{} (status `{}`)",
                    l.flow_log_id,
                    l.status.as_deref().unwrap_or("-")
                )
            })
            .collect();
        // What subnet- and ENI-level logs see of it, for the reader.
        let enis: Vec<_> = coverage
            .enis
            .iter()
            .filter(|e| e.vpc_id.as_deref() == Some(v.id.as_str()))
            .collect();
        let captured = enis
            .iter()
            .filter(|e| e.capture != crate::coverage::Capture::None)
            .count();
        let mut because = inactive.clone();
        if captured > 0 {
            because.push(format!(
                "{captured} of its {} ENI(s) captured by subnet- or ENI-level flow logs",
                enis.len()
            ));
        }
        res.findings.push(finding(
            &c.id,
            c.severity,
            FindingStatus::NoFlowLog,
            vec![v.id.clone()],
            None,
            because,
            format!(
                "VPC {} has no active flow log of its own{}{}; to fix: create one (`aws ec2 create-flow-logs --resource-type VPC --resource-ids {}`)",
                v.id,
                if inactive.is_empty() {
                    String::new()
                } else {
                    format!(" (not active: {})", inactive.join(", "))
                },
                if captured > 0 {
                    format!(
                        "; {captured} of its {} ENI(s) are captured by subnet- or ENI-level logs",
                        enis.len()
                    )
                } else {
                    String::new()
                },
                v.id
            ),
        ));
    }
}

fn logs(coverage: &Coverage, c: &Check, res: &mut AuditResult) {
    if !coverage.config_read {
        res.findings
            .push(unknown(c, Vec::new(), "flow logs cannot be checked"));
        return;
    }
    for l in &coverage.flow_logs {
        let on = l.resource_id.clone().unwrap_or_default();
        let resources = vec![l.flow_log_id.clone(), on.clone()];
        if c.check == "flow-log-delivery" {
            let failing = l
                .delivery
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("FAILED"));
            if !failing {
                continue;
            }
            let error = l.delivery_error.as_deref().unwrap_or("no error message");
            res.findings.push(finding(
                &c.id,
                c.severity,
                FindingStatus::DeliveryFails,
                resources,
                None,
                vec![format!("DeliverLogsStatus FAILED: {error}")],
                format!(
                    "flow log {} of {on} fails to deliver to {} ({error}): it captures nothing that can be read ({} ENI(s)); to fix: check the delivery role and the destination's permissions",
                    l.flow_log_id,
                    l.destination
                        .as_deref()
                        .or(l.destination_type.as_deref())
                        .unwrap_or("its destination"),
                    l.enis
                ),
            ));
        } else if let Some(e) = &l.format_error {
            res.findings.push(finding(
                &c.id,
                c.severity,
                FindingStatus::FieldsMissing,
                resources,
                None,
                vec![format!("LogFormat cannot be read: {e}")],
                format!(
                    "the format of flow log {} of {on} cannot be read ({e})",
                    l.flow_log_id
                ),
            ));
        } else if !l.missing_fields.is_empty() {
            let because: Vec<String> = l
                .missing_fields
                .iter()
                .map(|m| format!("lacks `{}`: {}", m.field, m.cost))
                .collect();
            let fields: Vec<String> = l
                .missing_fields
                .iter()
                .map(|m| format!("`{}`", m.field))
                .collect();
            res.findings.push(finding(
                &c.id,
                c.severity,
                FindingStatus::FieldsMissing,
                resources,
                None,
                because,
                format!(
                    "the format of flow log {} of {on} lacks {}: explanations of its records are weaker; to fix: a custom format with them (flow logs are recreated to change the format)",
                    l.flow_log_id,
                    fields.join(", ")
                ),
            ));
        }
    }
}
