fn main() -> anyhow::Result<()> {
    kit::server::run_service(ledger::IDENTITY, || async {
        ledger::build(ledger::config::Config::from_env()?).await
    })
}
