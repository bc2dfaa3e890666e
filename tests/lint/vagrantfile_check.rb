# frozen_string_literal: true

# Loads vagrant/Vagrantfile and vagrant/local/Vagrantfile against a stand-in for Vagrant's
# configuration API and checks what they configure. `ruby -c` only proves the syntax; this
# catches a setting the provider plugin does not have, an uploaded file or script that does not
# exist, a required variable that does not stop `vagrant up`, and the per-node values.
#
# Usage: ruby vagrantfile_check.rb SOURCE_DIR. Each scenario runs in a forked child, on a copy
# of vagrant/ in a temporary directory (the DigitalOcean file writes .vagrant/ beside itself).

require 'fileutils'
require 'tmpdir'

# Provider settings that exist, from the plugins' Config classes: vagrant-digitalocean 0.9.x
# (lib/vagrant-digitalocean/config.rb) and vagrant-libvirt (docs/configuration.markdown), only
# the part these Vagrantfiles may reasonably use. A name outside the list fails the check.
PROVIDER_SETTINGS = {
  digital_ocean: %w[token image region size private_networking ipv6 backups_enabled ca_path
                    ssh_key_name setup user_data monitoring tags volumes],
  libvirt: %w[memory cpus nested cpu_mode machine_virtual_size default_prefix driver uri
              management_network_name management_network_address]
}.freeze
LIBVIRT_NETWORK_OPTIONS = %i[type ip libvirt__network_name libvirt__network_address libvirt__netmask
                             libvirt__dhcp_enabled libvirt__dhcp_start libvirt__dhcp_stop
                             libvirt__forward_mode libvirt__host_ip].freeze
GUEST_DIR = '/tmp/failoverd-vagrant'

# Records assignments and nested namespaces (config.vm.box = ..., config.ssh.private_key_path = ...).
class Namespace
  attr_reader :values

  def initialize
    @values = {}
  end

  def method_missing(name, *args)
    key = name.to_s
    if key.end_with?('=') && args.size == 1
      @values[key.chomp('=')] = args.first
    elsif args.empty?
      @values[key] ||= Namespace.new
    else
      super
    end
  end

  def respond_to_missing?(*) = true

  def to_h
    @values.transform_values { |v| v.is_a?(Namespace) ? v.to_h : v }
  end
end

# A provider block's object: only the plugin's real settings may be assigned.
class StrictProvider
  attr_reader :values

  def initialize(name)
    @name = name
    @allowed = PROVIDER_SETTINGS.fetch(name) { raise "unknown provider #{name.inspect}" }
    @values = {}
  end

  def method_missing(name, *args)
    key = name.to_s.chomp('=')
    raise NoMethodError, "#{@name} has no setting '#{key}'" unless @allowed.include?(key) && args.size == 1

    @values[key] = args.first
  end

  def respond_to_missing?(*) = true
end

class Vm < Namespace
  attr_reader :machines, :provisions, :networks, :providers, :synced

  def initialize
    super
    @machines = {}
    @provisions = []
    @networks = []
    @providers = {}
    @synced = []
  end

  def define(name, **_opts)
    machine = Config.new
    yield machine
    @machines[name.to_s] = machine
  end

  def provider(name)
    prov = (@providers[name] ||= StrictProvider.new(name))
    yield prov, Config.new
  end

  def provision(name, **opts)
    @provisions << opts.merge(name: name)
  end

  def network(type, **opts)
    @networks << opts.merge(kind: type)
  end

  def synced_folder(src, dst, **opts)
    @synced << opts.merge(src: src, dst: dst)
  end
end

class Config < Namespace
  def vm = (@vm ||= Vm.new)

  def summary
    {
      settings: to_h,
      box: vm.values['box'], hostname: vm.values['hostname'],
      providers: vm.providers.transform_values(&:values),
      provisions: vm.provisions, networks: vm.networks, synced: vm.synced,
      machines: vm.machines.transform_values(&:summary)
    }
  end
end

module Vagrant
  def self.configure(version)
    raise "Vagrant.configure('#{version}'): expected '2'" unless version == '2'

    yield $fake_root
  end

  def self.has_plugin?(*) = true
end

# Runs one Vagrantfile load in a child: returns [exit status, summary or nil, stderr text].
def load_vagrantfile(path, argv:, env:)
  err_path = File.join(Dir.tmpdir, "vagrantfile_check_#{Process.pid}.err")
  reader, writer = IO.pipe
  pid = fork do
    reader.close
    ENV.keys.grep(/\A(FAILOVERD_|DIGITALOCEAN_|VAGRANT_)/).each { |k| ENV.delete(k) }
    env.each { |k, v| ENV[k] = v }
    ARGV.replace(argv)
    $stderr.reopen(err_path, 'w')
    $fake_root = Config.new
    load path
    writer.write(Marshal.dump($fake_root.summary))
    writer.close
    exit!(0)
  rescue StandardError, ScriptError => e
    warn "#{e.class}: #{e.message}\n  #{e.backtrace.first(3).join("\n  ")}"
    exit!(3)
  end
  writer.close
  data = reader.read
  Process.wait(pid)
  status = $?.exitstatus
  [status, data.empty? ? nil : Marshal.load(data), File.exist?(err_path) ? File.read(err_path) : '']
ensure
  File.delete(err_path) if err_path && File.exist?(err_path)
end

$failures = 0
def check(what, ok, detail = nil)
  if ok
    puts "ok   #{what}"
  else
    $failures += 1
    puts "FAIL #{what}#{detail ? ": #{detail}" : ''}"
  end
end

# Every provisioner of a machine refers to something that exists: file sources on the host,
# and the scripts the inline shell steps run (uploaded from vagrant/provision).
def check_provisions(label, machine, vagrant_dir)
  provs = machine[:provisions]
  names = provs.map { |p| p[:name] }
  check("#{label}: provisioners in order", names.first == 'upload-prepare' && names.last(2) == %w[install configure],
        names.inspect)
  provs.each do |p|
    case p[:type]
    when 'file'
      check("#{label}: #{p[:name]} source exists", File.exist?(p[:source]), p[:source])
      check("#{label}: #{p[:name]} goes under #{GUEST_DIR}", p[:destination].start_with?(GUEST_DIR))
    when 'shell'
      script = p[:inline][%r{#{GUEST_DIR}/provision/([\w.-]+\.sh)}, 1]
      next if script.nil? && p[:name] == 'upload-prepare'

      check("#{label}: #{p[:name]} runs an existing script", script && File.file?(File.join(vagrant_dir, 'provision', script)),
            p[:inline])
      env = p[:env] || {}
      check("#{label}: #{p[:name]} env values are strings", env.values.all? { |v| v.is_a?(String) }, env.inspect)
    else
      check("#{label}: #{p[:name]} has a known type", false, p[:type].inspect)
    end
  end
end

def configure_env(machine) = machine[:provisions].find { |p| p[:name] == 'configure' }[:env]

src = ARGV.fetch(0) { abort 'usage: vagrantfile_check.rb SOURCE_DIR' }
Dir.mktmpdir('vagrantfile_check') do |tmp|
  vagrant_dir = File.join(tmp, 'vagrant')
  FileUtils.cp_r(File.join(src, 'vagrant'), vagrant_dir)
  FileUtils.rm_rf(Dir.glob(File.join(vagrant_dir, '**', '.vagrant')))
  deb = File.join(tmp, 'failoverd_0.0.0_amd64.deb')
  File.write(deb, 'not really a package')
  do_file = File.join(vagrant_dir, 'Vagrantfile')
  local_file = File.join(vagrant_dir, 'local', 'Vagrantfile')
  do_env = { 'DIGITALOCEAN_TOKEN' => 'dop_v1_test', 'FAILOVERD_RESERVED_IP' => '203.0.113.10',
             'FAILOVERD_DEB' => deb, 'FAILOVERD_SSH_KEY' => File.join(tmp, 'id_test') }

  # DigitalOcean, `vagrant up` with every setting.
  status, s, err = load_vagrantfile(do_file, argv: ['up'], env: do_env.merge('FAILOVERD_AUTH_KEY' => 'k' * 32))
  check('do: up with all settings loads', status.zero? && s, err)
  if s
    check('do: two machines web1, web2', s[:machines].keys == %w[web1 web2], s[:machines].keys.inspect)
    check('do: plugin required', s[:settings]['vagrant']['plugins'] == ['vagrant-digitalocean'])
    check('do: token marked sensitive', s[:settings]['vagrant']['sensitive'].include?('dop_v1_test'))
    check('do: synced folder off', s[:synced].any? { |f| f[:disabled] })
    prios = {}
    s[:machines].each do |name, m|
      p = m[:providers][:digital_ocean] || {}
      check("do: #{name} provider token", p['token'] == 'dop_v1_test')
      check("do: #{name} private networking", p['private_networking'] == true)
      check("do: #{name} tagged", p['tags'] == ['failoverd-web'], p['tags'].inspect)
      check("do: #{name} image/region/size set", %w[image region size].all? { |k| p[k].is_a?(String) && !p[k].empty? })
      check_provisions("do: #{name}", m, vagrant_dir)
      env = configure_env(m)
      prios[name] = env['FAILOVERD_PRIORITY']
      check("do: #{name} configure gets the reserved IP", env['FAILOVERD_RESERVED_IP'] == '203.0.113.10')
      check("do: #{name} configure gets the token", env['FAILOVERD_DO_TOKEN'] == 'dop_v1_test')
      check("do: #{name} configure gets the auth key", env['FAILOVERD_AUTH_KEY'] == 'k' * 32)
      check("do: #{name} docker check for 10 containers", env['FAILOVERD_MIN_RUNNING'] == '10' &&
                                                          env['FAILOVERD_DEMO_CONTAINERS'] == '10')
      check("do: #{name} no address in the settings", env.values.none? { |v| v.match?(/\A10\.|\A192\.168\./) },
            env.inspect)
    end
    check('do: priorities 150 and 100', prios == { 'web1' => '150', 'web2' => '100' }, prios.inspect)
  end

  # Without an auth key the udp transport's key is generated once, 0600, and reused.
  status, s1, err = load_vagrantfile(do_file, argv: ['up'], env: do_env)
  key_file = File.join(vagrant_dir, '.vagrant', 'failoverd-auth.key')
  check('do: up without FAILOVERD_AUTH_KEY loads', status.zero? && s1, err)
  check('do: generated key file is 0600', File.file?(key_file) && (File.stat(key_file).mode & 0o777) == 0o600)
  _, s2, = load_vagrantfile(do_file, argv: ['provision'], env: do_env)
  if s1 && s2
    keys = [s1, s2].flat_map { |x| x[:machines].values.map { |m| configure_env(m)['FAILOVERD_AUTH_KEY'] } }
    check('do: one generated key for both nodes and later runs', keys.uniq.size == 1 && keys.first.size >= 40,
          keys.inspect)
  end

  # Settings the user must give stop `vagrant up` with a message, not a Ruby error.
  { 'FAILOVERD_RESERVED_IP' => nil, 'DIGITALOCEAN_TOKEN' => nil, 'FAILOVERD_DEB' => File.join(tmp, 'missing.deb') }
    .each do |key, value|
    env = do_env.merge('FAILOVERD_AUTH_KEY' => 'k' * 32)
    value ? env[key] = value : env.delete(key)
    status, _, err = load_vagrantfile(do_file, argv: ['up'], env: env)
    check("do: up without a valid #{key} stops with a message", status == 1 && err.include?(key), err)
  end
  status, _, err = load_vagrantfile(do_file, argv: ['up'], env: do_env.merge('FAILOVERD_PRIORITIES' => '150,300'))
  check('do: a priority out of range stops up', status == 1 && err.include?('FAILOVERD_PRIORITIES'), err)
  # Commands that do not provision work without any setting.
  status, _, err = load_vagrantfile(do_file, argv: ['status'], env: {})
  check('do: status loads without settings', status.zero?, err)

  # Local pair (libvirt).
  status, s, err = load_vagrantfile(local_file, argv: ['up'], env: { 'FAILOVERD_DEB' => deb })
  check('local: up loads', status.zero? && s, err)
  if s
    check('local: two machines web1, web2', s[:machines].keys == %w[web1 web2], s[:machines].keys.inspect)
    check('local: libvirt settings', (s[:providers][:libvirt] || {})['memory'].is_a?(Integer))
    s[:machines].each do |name, m|
      net = m[:networks].first || {}
      bad = net.keys - LIBVIRT_NETWORK_OPTIONS - [:kind]
      check("local: #{name} network options exist", bad.empty?, bad.inspect)
      check("local: #{name} DHCP on the pair network, no fixed address",
            net[:kind] == :private_network && net[:type] == 'dhcp' && !net.key?(:ip) &&
            net[:libvirt__network_address] == '192.168.150.0', net.inspect)
      check_provisions("local: #{name}", m, vagrant_dir)
      env = configure_env(m)
      check("local: #{name} VIP default", env['FAILOVERD_VIP'] == '192.168.150.250/24', env['FAILOVERD_VIP'])
      check("local: #{name} no cloud settings", env.keys.none? { |k| k.include?('_DO_') || k.include?('RESERVED') })
    end
  end
  status, s, err = load_vagrantfile(local_file, argv: ['up'],
                                    env: { 'FAILOVERD_DEB' => deb, 'FAILOVERD_LOCAL_NET' => '10.77.3.0' })
  check('local: FAILOVERD_LOCAL_NET moves network and VIP', status.zero? && s &&
        configure_env(s[:machines]['web2'])['FAILOVERD_VIP'] == '10.77.3.250/24', err)
  status, _, err = load_vagrantfile(local_file, argv: ['up'],
                                    env: { 'FAILOVERD_DEB' => deb, 'FAILOVERD_LOCAL_NET' => '10.77.3.0/24' })
  check('local: a malformed FAILOVERD_LOCAL_NET stops up', status == 1 && err.include?('FAILOVERD_LOCAL_NET'), err)
end

puts $failures.zero? ? 'PASS' : "#{$failures} check(s) failed"
exit($failures.zero? ? 0 : 1)
