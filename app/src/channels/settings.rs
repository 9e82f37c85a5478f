//! `settings:*`: the app's settings (the last selected profile, the
//! theme), never pointing the page at a profile that is gone.

use std::sync::Arc;

use crate::channels::{BASE, store_error};
use crate::services::AppServices;
use crate::bridge::channels::Empty;
use crate::bridge::registry::{Channel, ChannelRegistry, ChannelSpec, Quota, RegistryError};
use crate::store::{Settings, SettingsUpdate};

/// `settings:get`.
pub struct GetSettings;
impl Channel for GetSettings {
    type Request = Empty;
    type Response = Settings;
    const SPEC: ChannelSpec =
        ChannelSpec { name: "settings:get", summary: "The app's settings (defaults when none are saved).", ..BASE };
}

/// `settings:save`.
pub struct SaveSettings;
impl Channel for SaveSettings {
    type Request = SettingsUpdate;
    type Response = Settings;
    const SPEC: ChannelSpec = ChannelSpec {
        name: "settings:save",
        summary: "Changes the settings sent (absent fields keep their value); answers them all.",
        quota: Quota { per_second: 10, burst: 20 },
        state_changing: true,
        ..BASE
    };
}

/// Registers `settings:get` and `settings:save`.
pub fn register(registry: &mut ChannelRegistry, services: &Arc<AppServices>) -> Result<(), RegistryError> {
    let s = Arc::clone(services);
    registry.register::<GetSettings, _>(move |_, _: Empty| {
        let mut settings = s.settings().get().map_err(store_error)?;
        // Never point the page at a profile that is gone (a delete whose
        // settings write failed, or an edited file).
        if let Some(id) = settings.last_selected_profile_id
            && !s.profiles().contains(id)
        {
            settings.last_selected_profile_id = None;
        }
        Ok(settings)
    })?;

    let s = Arc::clone(services);
    registry.register::<SaveSettings, _>(move |_, update: SettingsUpdate| {
        if let Some(Some(id)) = update.last_selected_profile_id {
            s.profiles().get(id).map_err(store_error)?;
        }
        s.settings().save(update).map_err(store_error)
    })?;
    Ok(())
}
