// Static lists the WebUI v1.10.1 reports: samplers (first is "DPM++ 2M"), schedulers, scripts.

const SAMPLERS: [string, string[], Record<string, string>][] = [
  ["DPM++ 2M", ["k_dpmpp_2m"], { scheduler: "karras" }],
  ["DPM++ SDE", ["k_dpmpp_sde"], { scheduler: "karras", second_order: "True", brownian_noise: "True" }],
  ["DPM++ 2M SDE", ["k_dpmpp_2m_sde"], { scheduler: "exponential", brownian_noise: "True" }],
  [
    "DPM++ 2M SDE Heun",
    ["k_dpmpp_2m_sde_heun"],
    { scheduler: "exponential", brownian_noise: "True", solver_type: "heun" },
  ],
  ["DPM++ 2S a", ["k_dpmpp_2s_a"], { scheduler: "karras", uses_ensd: "True", second_order: "True" }],
  [
    "DPM++ 3M SDE",
    ["k_dpmpp_3m_sde"],
    { scheduler: "exponential", discard_next_to_last_sigma: "True", brownian_noise: "True" },
  ],
  ["Euler a", ["k_euler_a", "k_euler_ancestral"], { uses_ensd: "True" }],
  ["Euler", ["k_euler"], {}],
  ["LMS", ["k_lms"], {}],
  ["Heun", ["k_heun"], { second_order: "True" }],
  ["DPM2", ["k_dpm_2"], { scheduler: "karras", discard_next_to_last_sigma: "True", second_order: "True" }],
  [
    "DPM2 a",
    ["k_dpm_2_a"],
    { scheduler: "karras", discard_next_to_last_sigma: "True", uses_ensd: "True", second_order: "True" },
  ],
  ["DPM fast", ["k_dpm_fast"], { uses_ensd: "True" }],
  ["DPM adaptive", ["k_dpm_ad"], { uses_ensd: "True" }],
  ["Restart", ["restart"], { scheduler: "karras", second_order: "True" }],
  ["DDIM", ["ddim"], {}],
  ["DDIM CFG++", ["ddim_cfgpp"], {}],
  ["PLMS", ["plms"], {}],
  ["UniPC", ["unipc"], {}],
  ["LCM", ["k_lcm"], {}],
];

export const samplersJson = (): unknown[] => SAMPLERS.map(([name, aliases, options]) => ({ name, aliases, options }));

const SCHEDULERS: [string, string, string[]][] = [
  ["automatic", "Automatic", []],
  ["uniform", "Uniform", []],
  ["karras", "Karras", []],
  ["exponential", "Exponential", []],
  ["polyexponential", "Polyexponential", []],
  ["sgm_uniform", "SGM Uniform", ["SGMUniform"]],
  ["kl_optimal", "KL Optimal", []],
  ["align_your_steps", "Align Your Steps", []],
  ["simple", "Simple", []],
  ["normal", "Normal", []],
  ["ddim", "DDIM", []],
  ["beta", "Beta", []],
];

export const schedulersJson = (): unknown[] =>
  SCHEDULERS.map(([name, label, aliases]) => ({
    name,
    label,
    aliases: aliases.length ? aliases : null,
    default_rho: -1.0,
    need_inner_model: false,
  }));

/** sd_samplers.get_sampler_and_scheduler: scheduler suffixes split off; unknown sampler -> "DPM++ 2M". */
export function samplerAndScheduler(samplerName: string | null, schedulerName: string | null): [string, string] {
  let sched = SCHEDULERS.find(([n, l]) => n === schedulerName || l === schedulerName) ?? SCHEDULERS[0]!;
  let name = samplerName || SAMPLERS[0]![0];
  for (const s of SCHEDULERS) {
    const opt = [s[1], s[0], ...s[2]].find((o) => name.endsWith(` ${o}`));
    if (opt) {
      sched = s;
      name = name.slice(0, -(opt.length + 1));
      break;
    }
  }
  const sampler = SAMPLERS.find(([n, a]) => n === name || a.includes(name)) ?? SAMPLERS[0]!;
  if (sampler[2].scheduler === sched[0]) sched = SCHEDULERS[0]!;
  return [sampler[0], sched[1]];
}

export const SELECTABLE_SCRIPTS = ["prompt matrix", "prompts from file or textbox", "x/y/z plot"];
export const ALWAYSON_SCRIPTS = [
  "extra options",
  "hypertile",
  "refiner",
  "seed",
  "sampler",
  "soft inpainting",
  "controlnet",
];
