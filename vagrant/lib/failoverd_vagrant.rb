# frozen_string_literal: true

# Shared by vagrant/Vagrantfile (DigitalOcean) and vagrant/local/Vagrantfile (libvirt): the
# settings read from the environment, the .deb to install, and the provisioners both pairs run.
# Settings come from FAILOVERD_* environment variables only; nothing secret lives in a file of
# the repository.
module FailoverdVagrant
  ROOT = File.expand_path('../..', __dir__)
  GUEST_DIR = '/tmp/failoverd-vagrant'
  # Commands that provision, and so need the .deb and every required setting. The others
  # (status, ssh, halt, destroy) must work without them.
  PROVISIONING_COMMANDS = %w[up provision reload].freeze

  module_function

  def command
    ARGV.find { |arg| !arg.start_with?('-') }
  end

  def provisioning?
    PROVISIONING_COMMANDS.include?(command)
  end

  # Stops `vagrant up` and friends with a message; other commands go on without the value.
  def fail!(message)
    abort("failoverd: #{message}") if provisioning?
  end

  # An environment variable; empty counts as unset.
  def env(name, default = nil)
    value = ENV.fetch(name, '')
    value.empty? ? default : value
  end

  def required_env(name, hint)
    env(name) || fail!("set #{name}: #{hint} (see vagrant/README.md)") || ''
  end

  def number_env(name, default)
    value = env(name, default.to_s)
    fail!("#{name} must be a whole number, not '#{value}'") unless value.match?(/\A\d+\z/)
    value
  end

  # The two nodes and their priorities: the first one is the preferred MASTER.
  def nodes
    priorities = env('FAILOVERD_PRIORITIES', '150,100').split(',').map(&:strip)
    unless priorities.size == 2 && priorities.all? { |p| p.match?(/\A\d+\z/) && p.to_i.between?(1, 254) }
      fail!("FAILOVERD_PRIORITIES must be two priorities 1..254, like 150,100")
      priorities = %w[150 100]
    end
    [{ name: 'web1', priority: priorities[0] }, { name: 'web2', priority: priorities[1] }]
  end

  # FAILOVERD_DEB, or the newest build/failoverd_*_amd64.deb (cmake --build build --target package).
  def deb_path
    given = env('FAILOVERD_DEB')
    if given
      path = File.expand_path(given)
      return path if File.file?(path)

      fail!("FAILOVERD_DEB=#{given}: no such file")
      return path
    end
    newest = Dir.glob(File.join(ROOT, 'build', 'failoverd_*_amd64.deb')).max_by { |f| File.mtime(f) }
    newest || fail!('no build/failoverd_*_amd64.deb: build it with ' \
                    '`cmake --build build --target package`, or set FAILOVERD_DEB') || ''
  end

  # What the health check and the demo workload agree on. The check wants FAILOVERD_MIN_RUNNING
  # containers (default 10; 0: no check); the demo starts that many unless told otherwise
  # (FAILOVERD_DEMO_CONTAINERS=0: bring your own), labelled so the check counts only them.
  def service_settings
    min_running = number_env('FAILOVERD_MIN_RUNNING', 10)
    demo = number_env('FAILOVERD_DEMO_CONTAINERS', min_running)
    label = env('FAILOVERD_DEMO_LABEL', 'failoverd.demo=web')
    {
      'FAILOVERD_MIN_RUNNING' => min_running,
      'FAILOVERD_CHECK_LABEL' => env('FAILOVERD_CHECK_LABEL', demo == '0' ? '' : label),
      'FAILOVERD_CHECK_WEIGHT' => env('FAILOVERD_CHECK_WEIGHT', '0'),
      'FAILOVERD_DEMO_CONTAINERS' => demo,
      'FAILOVERD_DEMO_IMAGE' => env('FAILOVERD_DEMO_IMAGE', 'nginx:alpine'),
      'FAILOVERD_DEMO_LABEL' => label
    }
  end

  # Settings both pairs pass to their configure script.
  def instance_settings
    {
      'FAILOVERD_INSTANCE' => env('FAILOVERD_INSTANCE', 'web'),
      'FAILOVERD_VRID' => number_env('FAILOVERD_VRID', 51),
      'FAILOVERD_ADVERT_INTERVAL' => env('FAILOVERD_ADVERT_INTERVAL', '1s')
    }
  end

  # The provisioners both pairs share, in order: a clean upload folder, the .deb and the
  # provisioning files, then install.sh ("install"). `configure_script` and `configure_env` are
  # the pair's own last step ("configure"); run it alone with
  # `vagrant provision --provision-with configure`. `as_root`: the SSH user is root already (the
  # DigitalOcean plugin logs in as root), so the scripts run without sudo.
  def provision(machine, deb:, configure_script:, configure_env:, as_root: false)
    machine.vm.provision 'upload-prepare', type: 'shell', privileged: false,
                                           inline: "rm -rf #{GUEST_DIR} && mkdir -p #{GUEST_DIR}"
    machine.vm.provision 'upload-deb', type: 'file', source: deb,
                                       destination: "#{GUEST_DIR}/failoverd.deb"
    %w[provision templates].each do |dir|
      machine.vm.provision "upload-#{dir}", type: 'file', source: File.join(ROOT, 'vagrant', dir),
                                            destination: "#{GUEST_DIR}/#{dir}"
    end
    machine.vm.provision 'install', type: 'shell', inline: "bash #{GUEST_DIR}/provision/install.sh",
                                    privileged: !as_root, env: service_settings
    machine.vm.provision 'configure', type: 'shell',
                                      inline: "bash #{GUEST_DIR}/provision/#{configure_script}",
                                      privileged: !as_root,
                                      env: service_settings.merge(instance_settings)
                                                           .merge(configure_env.transform_values(&:to_s))
  end
end
