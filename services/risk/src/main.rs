fn main() -> anyhow::Result<()> {
    kit::server::run_service(risk::IDENTITY, || async {
        risk::build(risk::config::Config::from_env()?).await
    })
}
