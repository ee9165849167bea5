//! Progress of AWS reads on stderr: a bar on a terminal, plain lines otherwise.

use std::sync::Mutex;
use vpcreach::aws::{FetchProgress, Progress, Scope};

/// The items each call of a scope returned.
type CallCounts = Vec<(Scope, Vec<(&'static str, usize)>)>;

/// Progress of collection on stderr: a bar on a terminal, one line per region otherwise.
pub struct StderrProgress {
    bar: Option<indicatif::ProgressBar>,
    counts: Mutex<CallCounts>,
}

impl StderrProgress {
    /// A bar (`bar`) or plain lines.
    pub fn new(bar: bool) -> StderrProgress {
        let bar = bar.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{elapsed:>4} [{bar:30}] {pos}/{len} calls  {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        StderrProgress {
            bar,
            counts: Mutex::new(Vec::new()),
        }
    }

    fn summary(&self, scope: &Scope) -> String {
        let counts = self.counts.lock().map(|c| c.clone()).unwrap_or_default();
        let calls = counts
            .iter()
            .find(|(s, _)| s == scope)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let words: Vec<String> = calls
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(call, n)| format!("{n} {}", noun(call)))
            .collect();
        if words.is_empty() {
            "nothing".into()
        } else {
            words.join(", ")
        }
    }
}

/// What a call lists, in words.
fn noun(call: &str) -> &'static str {
    match call {
        "DescribeVpcs" => "VPCs",
        "DescribeSubnets" => "subnets",
        "DescribeRouteTables" => "route tables",
        "DescribeNetworkAcls" => "network ACLs",
        "DescribeSecurityGroups" => "security groups",
        "DescribeNetworkInterfaces" => "network interfaces",
        "DescribeInstances" => "reservations",
        "DescribeInternetGateways" => "internet gateways",
        "DescribeEgressOnlyInternetGateways" => "egress-only internet gateways",
        "DescribeNatGateways" => "NAT gateways",
        "DescribeVpcPeeringConnections" => "peering connections",
        "DescribePrefixLists" => "AWS prefix lists",
        "DescribeManagedPrefixLists" => "managed prefix lists",
        "DescribeVpcEndpoints" => "VPC endpoints",
        "DescribeAddresses" => "Elastic IPs",
        "DescribeTransitGateways" => "transit gateways",
        "DescribeTransitGatewayAttachments" => "TGW attachments",
        "DescribeTransitGatewayVpcAttachments" => "TGW VPC attachments",
        "DescribeTransitGatewayRouteTables" => "TGW route tables",
        "DescribeFlowLogs" => "flow logs",
        _ => "items",
    }
}

impl Progress for StderrProgress {
    fn start(&self, scopes: &[Scope]) {
        let names: Vec<String> = scopes.iter().map(Scope::to_string).collect();
        match &self.bar {
            Some(bar) => {
                bar.set_length(
                    (scopes.len() * (vpcreach::aws::CALLS.len() + vpcreach::aws::ELB_CALLS.len()))
                        as u64,
                );
                bar.set_message(format!("reading {}", names.join(", ")));
            }
            None => eprintln!(
                "collecting {} region(s): {}",
                scopes.len(),
                names.join(", ")
            ),
        }
    }

    fn call_done(&self, scope: &Scope, call: &'static str, items: usize) {
        if let Ok(mut counts) = self.counts.lock() {
            match counts.iter_mut().find(|(s, _)| s == scope) {
                Some((_, calls)) => calls.push((call, items)),
                None => counts.push((scope.clone(), vec![(call, items)])),
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("{scope}: {call} ({items})"));
        }
    }

    fn scope_done(&self, scope: &Scope) {
        let line = format!("{scope}: {}", self.summary(scope));
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{}", vpcreach::render::sanitize_line(&line)),
        }
    }
}

impl Drop for StderrProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Byte progress of downloads on stderr (a bar on a terminal only).
pub struct FetchBar(pub indicatif::ProgressBar);

impl FetchProgress for FetchBar {
    fn listed(&self, objects: usize, bytes: u64) {
        self.0.set_length(bytes);
        self.0.set_message(format!("{objects} object(s)"));
    }
    fn fetched(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}
