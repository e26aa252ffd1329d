//! A running Depot: devnet with the canisters deployed, serving the IC HTTP
//! interface and the HTTP gateway on one loopback port.

use crate::deploy::{DeployOpts, Deployment, deploy};
use anyhow::Result;
use candid::Principal;
use depot_api::directory::DirectoryInit;
use depot_cli::client::Depot;
use depot_devnet::http::ApiConfig;
use depot_devnet::http::server::{RunningServer, spawn};
use depot_devnet::{Devnet, DevnetConfig};
use ic_agent::Identity;
use ic_agent::identity::BasicIdentity;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub struct EnvOpts {
    pub buckets: usize,
    /// 0 picks a free port.
    pub port: u16,
    pub directory_init: DirectoryInit,
    /// devnet's modelled update latency (`ApiConfig::update_latency`).
    pub update_latency: std::time::Duration,
    /// Subnets devnet runs (`DevnetConfig::subnets`); Depot's own
    /// canisters are on the first, the root subnet.
    pub subnets: usize,
    /// Put the buckets on this subnet (an index): the directory creates
    /// them through the stand-in CMC, which it is told to ask for that
    /// subnet, as an operator would on mainnet. Needs `buckets: 0`.
    pub bucket_subnet: Option<usize>,
}

impl Default for EnvOpts {
    fn default() -> Self {
        Self {
            buckets: 2,
            port: 0,
            directory_init: DirectoryInit::default(),
            update_latency: std::time::Duration::ZERO,
            subnets: 1,
            bucket_subnet: None,
        }
    }
}

pub struct DepotEnv {
    pub devnet: Arc<Mutex<Devnet>>,
    pub server: RunningServer,
    pub deployment: Deployment,
}

impl DepotEnv {
    pub async fn start(opts: EnvOpts) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], opts.port))).await?;
        let port = listener.local_addr()?.port();
        let mut dev =
            Devnet::new(DevnetConfig { debug_print: false, subnets: opts.subnets, ..DevnetConfig::default() });
        let mut opts = opts;
        if let Some(k) = opts.bucket_subnet {
            anyhow::ensure!(opts.buckets == 0, "bucket_subnet: the directory makes the buckets (buckets: 0)");
            let subnet = *dev.subnet_ids().get(k).ok_or_else(|| anyhow::anyhow!("no subnet {k}"))?;
            let cmc = crate::ledgers::deploy_cmc(&mut dev)?;
            opts.directory_init.bucket_factory = Some(depot_api::directory::BucketFactory::CyclesMintingCanister {
                cmc,
                subnet: Some(subnet),
                subnet_type: None,
            });
        }
        let pool = opts.directory_init.bucket_pool_target.unwrap_or(depot_api::limits::DEFAULT_BUCKET_POOL_TARGET);
        let mut deployment = deploy(
            &mut dev,
            DeployOpts {
                buckets: opts.buckets,
                domain_template: format!("{{bucket}}.localhost:{port}"),
                directory_init: opts.directory_init,
            },
        )?;
        if opts.buckets == 0 {
            // No bucket registered by hand: the directory makes its pool.
            crate::deploy::wait_for_pool(&mut dev, &mut deployment, pool)?;
        }
        crate::deploy::settle(&mut dev)?;
        Self::serve(listener, dev, deployment, opts.update_latency).await
    }

    /// Serves a devnet that already holds `deployment` (loaded from a saved
    /// state) on `port`: the port it was deployed for, since the buckets'
    /// URLs name it.
    pub async fn resume(
        dev: Devnet,
        deployment: Deployment,
        port: u16,
        update_latency: std::time::Duration,
    ) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
        Self::serve(listener, dev, deployment, update_latency).await
    }

    async fn serve(
        listener: tokio::net::TcpListener,
        dev: Devnet,
        deployment: Deployment,
        update_latency: std::time::Duration,
    ) -> Result<Self> {
        let devnet = Arc::new(Mutex::new(dev));
        let api = ApiConfig { update_latency, ..ApiConfig::default() };
        let server = spawn(listener, devnet.clone(), api).await?;
        Ok(Self { devnet, server, deployment })
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }

    pub fn directory(&self) -> Principal {
        self.deployment.directory
    }

    /// Runs `f` on the devnet (time travel, faults, instruction counts).
    pub fn with_devnet<R>(&self, f: impl FnOnce(&mut Devnet) -> R) -> R {
        f(&mut self.devnet.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A fresh user identity (Ed25519), deterministic per `n`.
    pub fn identity(n: u8) -> Arc<dyn Identity> {
        let mut seed = [0x5eu8; 32];
        seed[0] = n;
        Arc::new(BasicIdentity::from_raw_key(&seed))
    }

    /// The CLI's client for `identity`, through devnet's HTTP interface with
    /// query-signature verification on (ic-agent's default).
    pub async fn client(&self, identity: Arc<dyn Identity>) -> Result<Depot> {
        Depot::connect(&self.url(), true, identity, self.directory()).await
    }

    /// An HTTP client that sends `<bucket>.localhost` to this server, as a
    /// browser on this machine would.
    pub fn http(&self) -> reqwest::Client {
        let addr = self.server.addr;
        let mut b = reqwest::Client::builder();
        let gateway = self.deployment.gateway;
        b = b.resolve(&format!("{gateway}.localhost"), addr);
        for bucket in &self.deployment.buckets {
            b = b.resolve(&format!("{bucket}.localhost"), addr).resolve(&format!("{bucket}.raw.localhost"), addr);
        }
        b.build().expect("reqwest client")
    }
}
