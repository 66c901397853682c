fn main() -> anyhow::Result<()> {
    kit::server::run_service(gateway::IDENTITY, || async {
        gateway::build(gateway::config::Config::from_env()?).await
    })
}
