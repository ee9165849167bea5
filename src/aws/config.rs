//! Credentials, regions and clients, all through the standard AWS configuration chain.

use super::error::{AwsError, CallSite};
use super::AwsOptions;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_http_client::tls;

/// The region asked of STS and for `DescribeRegions` when nothing else names one.
const FALLBACK_REGION: &str = "us-east-1";

/// A loaded configuration: credentials checked, role assumed.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The SDK configuration every client is built from.
    pub config: SdkConfig,
    /// The account of the assumed role, when `--role-arn` was given.
    pub account: Option<String>,
    /// The page size asked of paginated calls (`None`: the service's default).
    pub page_size: Option<i32>,
    /// Stops pagination that would never end (every client of the session).
    pub guard: super::guard::PageGuard,
    /// The time allowed for the next bytes of a download.
    pub read_timeout: std::time::Duration,
}

impl Session {
    /// Where calls of `service` to `region` go, for error messages.
    pub fn site(&self, service: &'static str, region: &str) -> CallSite {
        CallSite {
            service,
            region: region.to_string(),
            endpoint_url: self.config.endpoint_url().map(str::to_string).or_else(|| {
                let specific = match service {
                    "ec2" => "AWS_ENDPOINT_URL_EC2",
                    "s3" => "AWS_ENDPOINT_URL_S3",
                    "elasticloadbalancing" => "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
                    "cloudtrail" => "AWS_ENDPOINT_URL_CLOUDTRAIL",
                    _ => "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
                };
                std::env::var(specific).ok().filter(|v| !v.is_empty())
            }),
            attempts: self
                .config
                .retry_config()
                .map(|r| r.max_attempts())
                .unwrap_or(3),
        }
    }

    /// The configured region, if any.
    pub fn default_region(&self) -> Option<String> {
        self.config.region().map(|r| r.as_ref().to_string())
    }

    /// An EC2 client for one region.
    pub fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let conf = aws_sdk_ec2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.guard.clone())
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// An S3 client for one region. Path-style addressing when a custom endpoint is set (local
    /// S3-compatible servers do not resolve bucket host names).
    pub fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let custom = self.site("s3", region).endpoint_url.is_some();
        let conf = aws_sdk_s3::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .force_path_style(custom)
            .interceptor(self.guard.clone())
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// A CloudTrail client for one region (`LookupEvents` only).
    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        let conf = aws_sdk_cloudtrail::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.guard.clone())
            .build();
        aws_sdk_cloudtrail::Client::from_conf(conf)
    }

    /// An Elastic Load Balancing (v2) client for one region.
    pub fn elb(&self, region: &str) -> aws_sdk_elasticloadbalancingv2::Client {
        let conf = aws_sdk_elasticloadbalancingv2::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.guard.clone())
            .build();
        aws_sdk_elasticloadbalancingv2::Client::from_conf(conf)
    }

    /// A CloudWatch Logs client for one region.
    pub fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&self.config)
            .region(Region::new(region.to_string()))
            .interceptor(self.guard.clone())
            .build();
        aws_sdk_cloudwatchlogs::Client::from_conf(conf)
    }
}

/// The account of an IAM role ARN (`arn:aws:iam::123456789012:role/name`).
pub(crate) fn role_account(arn: &str) -> Result<String, AwsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == "iam"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("role/")
        && parts[5].len() > "role/".len();
    if ok {
        Ok(parts[4].to_string())
    } else {
        Err(AwsError::InvalidRoleArn(arn.to_string()))
    }
}

/// The HTTPS client: rustls with the `ring` provider, the system's root certificates, and the
/// proxy settings of the environment.
fn http_client() -> aws_sdk_ec2::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// Loads the configuration through the standard chain, checks that credentials can be had, and
/// assumes the role when one is given. Fails early, before any resource call, with a clear
/// error when no credentials are found.
pub(crate) async fn session(opts: &AwsOptions) -> Result<Session, AwsError> {
    let account = match &opts.role_arn {
        Some(arn) => Some(role_account(arn)?),
        None => None,
    };
    let read_timeout = opts.read_timeout.unwrap_or(super::DEFAULT_READ_TIMEOUT);
    // An endpoint that accepts the connection and never answers must not hold the run for
    // ever: every call has a connect, a read and an overall time limit.
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(
            opts.connect_timeout
                .unwrap_or(super::DEFAULT_CONNECT_TIMEOUT),
        )
        .read_timeout(read_timeout)
        .operation_timeout(
            opts.operation_timeout
                .unwrap_or(super::DEFAULT_OPERATION_TIMEOUT),
        )
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts);
    // A region given on the command line also serves STS and global calls.
    if let Some(first) = opts.regions.first() {
        loader = loader.region(Region::new(first.clone()));
    }
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    let mut config = loader.load().await;
    if let Some(profile) = &opts.profile {
        // `--profile` wins over keys in the environment, as with the AWS CLI: the default chain
        // would take AWS_ACCESS_KEY_ID first and ignore the profile asked for.
        let provider_config = aws_config::provider_config::ProviderConfig::without_region()
            .with_http_client(http_client())
            .with_region(config.region().cloned());
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(profile)
            .build();
        config = config
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    check_credentials(&config, opts).await?;
    if let Some(arn) = &opts.role_arn {
        let mut builder = AssumeRoleProvider::builder(arn.clone())
            .session_name("vpcreach")
            .configure(&config);
        if config.region().is_none() {
            builder = builder.region(Region::new(FALLBACK_REGION));
        }
        if let Some(id) = &opts.external_id {
            builder = builder.external_id(id.clone());
        }
        let provider = builder.build().await;
        if let Err(e) = provider.provide_credentials().await {
            return Err(AwsError::AssumeRole {
                role_arn: arn.clone(),
                detail: credentials_detail(&e),
            });
        }
        config = config
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build();
    }
    Ok(Session {
        config,
        account,
        page_size: opts.page_size.map(|n| n.clamp(5, 100)),
        guard: super::guard::PageGuard::new(opts.max_pages.unwrap_or(super::DEFAULT_MAX_PAGES)),
        read_timeout,
    })
}

async fn check_credentials(config: &SdkConfig, opts: &AwsOptions) -> Result<(), AwsError> {
    let profile = opts.profile.clone();
    let Some(provider) = config.credentials_provider() else {
        return Err(AwsError::NoCredentials {
            profile,
            detail: "no credential provider is configured".into(),
        });
    };
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(e @ CredentialsError::CredentialsNotLoaded(_)) => Err(AwsError::NoCredentials {
            profile,
            detail: credentials_detail(&e),
        }),
        // Nothing but the instance role was left to try, and it failed (no instance metadata
        // service here): that is "no credentials", not a failure of some configured source.
        Err(e) if profile.is_none() && !source_configured() => Err(AwsError::NoCredentials {
            profile,
            detail: credentials_detail(&e),
        }),
        Err(e) => Err(AwsError::Credentials {
            profile,
            detail: credentials_detail(&e),
        }),
    }
}

/// True when the environment or the home folder names a source of credentials other than the
/// instance role: keys, a profile, a web identity token, a container endpoint, a config file.
fn source_configured() -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    let vars = [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ];
    if vars.iter().any(|k| set(k)) {
        return true;
    }
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
            .is_some_and(|p| p.is_file())
    };
    file("AWS_CONFIG_FILE", "config") || file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
}

/// The words of a credentials error and its causes, never the credentials themselves (the
/// SDK's errors do not carry them).
fn credentials_detail(e: &CredentialsError) -> String {
    let mut words = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !words.contains(&text) {
            words.push_str(": ");
            words.push_str(&text);
        }
        source = s.source();
    }
    words
}

/// The regions to read: those given, every enabled one, or the configured one.
pub(crate) async fn regions(session: &Session, opts: &AwsOptions) -> Result<Vec<String>, AwsError> {
    if !opts.regions.is_empty() {
        let mut regions = opts.regions.clone();
        let mut seen = std::collections::HashSet::new();
        regions.retain(|r| seen.insert(r.clone()));
        return Ok(regions);
    }
    let default = session.default_region();
    if opts.all_regions {
        let region = default.unwrap_or_else(|| FALLBACK_REGION.to_string());
        let out = session
            .ec2(&region)
            .describe_regions()
            .send()
            .await
            .map_err(|e| {
                super::error::classify(e, "DescribeRegions", &session.site("ec2", &region))
            })?;
        let mut names: Vec<String> = out
            .regions()
            .iter()
            .filter_map(|r| r.region_name().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        return Ok(names);
    }
    default.map(|r| vec![r]).ok_or(AwsError::NoRegion)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_accounts() {
        assert_eq!(
            role_account("arn:aws:iam::123456789012:role/audit").unwrap(),
            "123456789012"
        );
        assert_eq!(
            role_account("arn:aws-us-gov:iam::123456789012:role/path/x").unwrap(),
            "123456789012"
        );
        for bad in [
            "arn:aws:iam::12345:role/x",
            "arn:aws:iam::123456789012:user/x",
            "arn:aws:s3:::bucket",
            "role/x",
            "arn:aws:iam::123456789012:role/",
        ] {
            assert!(role_account(bad).is_err(), "{bad}");
        }
    }
}
